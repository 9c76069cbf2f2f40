package reproduce

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/results"
)

var (
	smokeOnce sync.Once
	smokeEnv  *Env
	smokeErr  error
)

// openSmoke opens one smoke-scale environment for all tests: a random tiny
// teacher with the fixture tokenizer, the package's small corpus.
func openSmoke(t *testing.T) *Env {
	t.Helper()
	smokeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "reproduce-smoke-")
		if err != nil {
			smokeErr = err
			return
		}
		root, err := filepath.Abs("..")
		if err != nil {
			smokeErr = err
			return
		}
		teacher := filepath.Join(dir, "teacher")
		if smokeErr = BuildSmokeTeacher(teacher, filepath.Join(root, SmokeTokenizerDir), 7); smokeErr != nil {
			return
		}
		be, err := backend.New()
		if err != nil {
			smokeErr = err
			return
		}
		smokeEnv, smokeErr = Open(Options{Root: root, Teacher: teacher, Corpus: "testdata/corpus.jsonl", ValFraction: 0.25,
			Out: filepath.Join(dir, "out"), Scale: "smoke", Backend: be})
	})
	if smokeErr != nil {
		t.Fatal(smokeErr)
	}
	return smokeEnv
}

// TestExperimentsSmoke runs every experiment at smoke scale and checks that
// each writes its table, its result JSON and its plots (not the orderings).
func TestExperimentsSmoke(t *testing.T) {
	e := openSmoke(t)
	for _, name := range Experiments {
		t.Run(name, func(t *testing.T) {
			r, err := e.Run(name)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(e.Out, name)
			table, err := os.ReadFile(filepath.Join(dir, TableFile))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(table), "| --- |") || len(r.Rows) == 0 {
				t.Fatalf("%s: no table rows:\n%s", name, table)
			}
			if !strings.Contains(string(table), "Reproduced.") && !strings.Contains(string(table), "Not reproduced.") {
				t.Fatalf("%s: no verdict in the table", name)
			}
			var back Report
			if err := results.LoadJSON(filepath.Join(dir, ResultFile), &back); err != nil {
				t.Fatal(err)
			}
			if back.Experiment != name || len(back.Rows) != len(r.Rows) {
				t.Fatalf("%s: result.json holds %q with %d rows", name, back.Experiment, len(back.Rows))
			}
			if len(r.Plots) == 0 {
				t.Fatalf("%s: no plots", name)
			}
			for _, p := range r.Plots {
				st, err := os.Stat(filepath.Join(dir, p))
				if err != nil || st.Size() == 0 {
					t.Fatalf("%s: plot %s missing: %v", name, p, err)
				}
			}
			for _, run := range r.Runs {
				for _, s := range run.Steps {
					if s.ValLoss != nil && (math.IsNaN(*s.ValLoss) || *s.ValLoss <= 0) {
						t.Fatalf("%s: run %s step %d: val loss %v", name, run.Name, s.Step, *s.ValLoss)
					}
				}
			}
		})
	}
}

func TestUnknownExperiment(t *testing.T) {
	e := &Env{}
	if _, err := e.Run("nope"); err == nil || !strings.Contains(err.Error(), "unknown experiment") {
		t.Fatalf("got %v", err)
	}
}
