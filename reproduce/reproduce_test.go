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
	// The stored results alone give the same tables again (Regenerate).
	regen := t.TempDir()
	reports, err := Regenerate(e.Out, regen)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != len(Experiments) {
		t.Fatalf("Regenerate gave %d reports, want %d", len(reports), len(Experiments))
	}
	for i, r := range reports {
		if r.Experiment != Experiments[i] {
			t.Errorf("report %d is %s, want %s (Experiments order)", i, r.Experiment, Experiments[i])
		}
		orig, err := os.ReadFile(filepath.Join(e.Out, r.Experiment, TableFile))
		if err != nil {
			t.Fatal(err)
		}
		again, err := os.ReadFile(filepath.Join(regen, r.Experiment, TableFile))
		if err != nil {
			t.Fatal(err)
		}
		if string(orig) != string(again) {
			t.Errorf("%s: regenerated table differs:\n%s\nvs stored run:\n%s", r.Experiment, again, orig)
		}
		for _, p := range r.Plots {
			if _, err := os.Stat(filepath.Join(regen, r.Experiment, p)); err != nil {
				t.Errorf("%s: regenerated plot: %v", r.Experiment, err)
			}
		}
	}
}

// TestSeedsSmoke repeats one experiment over MinSeeds seeds: one value per
// seed in its details, every seed's curves in its runs.
func TestSeedsSmoke(t *testing.T) {
	e := *openSmoke(t)
	e.Sizes.Seeds = MinSeeds
	e.Out = t.TempDir()
	r, err := e.Run(ExpKDvsCE)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Details.(*KDvsCEResult)
	if len(r.Seeds) != MinSeeds || len(d.KD) != MinSeeds || len(d.CE) != MinSeeds || len(d.LossAtStep0) != MinSeeds {
		t.Fatalf("seeds %v, KD %v, CE %v, step 0 %v: want %d values each", r.Seeds, d.KD, d.CE, d.LossAtStep0, MinSeeds)
	}
	if len(r.Runs) != 2*MinSeeds {
		t.Fatalf("%d runs, want %d (2 objectives × %d seeds)", len(r.Runs), 2*MinSeeds, MinSeeds)
	}
	if d.LossAtStep0[0] == d.LossAtStep0[1] && d.KD[0] == d.KD[1] {
		t.Errorf("seeds %d and %d gave identical numbers: the seed does not reach calibration or data order", r.Seeds[0], r.Seeds[1])
	}
}

func TestUnknownExperiment(t *testing.T) {
	e := &Env{}
	if _, err := e.Run("nope"); err == nil || !strings.Contains(err.Error(), "unknown experiment") {
		t.Fatalf("got %v", err)
	}
}
