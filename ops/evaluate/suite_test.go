package evaluate

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// constScorer gives every continuation the log-likelihood -len(continuation tokens)*w.
type constScorer struct{ w float64 }

func (s constScorer) LogLikelihoods(reqs []Request) ([]Result, error) {
	out := make([]Result, len(reqs))
	for i, r := range reqs {
		out[i] = Result{LogLik: -s.w * float64(len(r.Continuation))}
	}
	return out, nil
}

// echoGenerator answers "#### 7" to every prompt (gsm8k doc 0's answer).
type echoGenerator struct{ text string }

func (g echoGenerator) GenerateUntil(prompts []string, _ UntilOptions) ([]string, error) {
	out := make([]string, len(prompts))
	for i := range out {
		out[i] = g.text
	}
	return out, nil
}

func writeSuite(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "suite.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunSuite: the table holds, per model and row, the metric each task
// reports on its own, and the suite's defaults and paths resolve.
func TestRunSuite(t *testing.T) {
	abs, _ := filepath.Abs(taskPath(""))
	dir := t.TempDir()
	for _, f := range []string{"arc.jsonl", "gsm8k.jsonl", "truthfulqa_mc.jsonl", "xlsum.jsonl"} {
		b, _ := os.ReadFile(filepath.Join(abs, f))
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	path := writeSuite(t, dir, `{"models": [{"path": "/m/teacher"}, {"name": "student", "path": "student"}],
	  "tasks": [
	    {"benchmark": "arc_challenge", "task": "arc.jsonl", "format": "arc", "shots": 1},
	    {"task": "gsm8k.jsonl", "format": "gsm8k", "shots": 2, "metric": "exact_match,flexible-extract", "limit": 4},
	    {"benchmark": "truthfulqa", "task": "truthfulqa_mc.jsonl", "format": "truthfulqa_mc2"},
	    {"task": "xlsum.jsonl", "format": "xlsum", "shots": 1, "seed": 5}]}`)
	s, err := ReadSuite(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Models[0].Name != "teacher" || s.Models[1].Path != filepath.Join(dir, "student") || s.Tasks[1].Benchmark != "gsm8k" ||
		s.Tasks[0].Metric != "acc_norm" || s.Tasks[2].Metric != "mc2" || s.Tasks[3].Metric != MetricRougeLsum || s.Tasks[0].Task != filepath.Join(dir, "arc.jsonl") {
		t.Fatalf("suite %+v", s)
	}
	var tasks []*LoadedTask
	for _, spec := range s.Tasks {
		lt, err := LoadTask(spec)
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, lt)
	}
	enc := &Encoder{Tok: TokenizerFunc(func(s string) ([]int32, error) { return make([]int32, len(strings.Fields(s))), nil }), PrefixToken: 0}
	evs := []Evaluators{
		{Scorer: constScorer{1}, Encoder: enc, Generator: echoGenerator{"#### 7"}},
		{Scorer: constScorer{0.5}, Encoder: enc, Generator: echoGenerator{" A jury said the city election was conducted well.\n#### 60"}},
	}
	released := 0
	var seen []string
	tab, err := RunSuite([]string{s.Models[0].Name, s.Models[1].Name}, tasks,
		func(m int) (Evaluators, func(), error) { return evs[m], func() { released++ }, nil },
		func(m, ti int, r *TaskResult) error { seen = append(seen, itoa(m)+"/"+itoa(ti)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if released != 2 || len(seen) != 8 {
		t.Errorf("released %d models, saw %d results", released, len(seen))
	}
	for m := range evs {
		for i, lt := range tasks {
			r, err := EvaluateTask(evs[m], lt)
			if err != nil {
				t.Fatal(err)
			}
			if tab.Rows[i].Values[m] != r.Metrics[lt.Spec.Metric] || tab.Rows[i].Stderr[m] != r.Stderr[lt.Spec.Metric] {
				t.Errorf("row %d model %d: %v, task alone %v", i, m, tab.Rows[i].Values[m], r.Metrics)
			}
		}
	}
	// gsm8k with limit 4: model 0 answers "#### 7" (right for doc 0 only), model 1 "#### 60" (doc 1 only).
	if tab.Rows[1].Values[0] != 0.25 || tab.Rows[1].Values[1] != 0.25 || tab.Rows[1].N != 4 {
		t.Errorf("gsm8k row %+v", tab.Rows[1])
	}
	// xlsum: model 0's text has no words of any summary; model 1 matches doc 0 only.
	if tab.Rows[3].Values[0] != 0 || !(tab.Rows[3].Values[1] > 0) || math.IsNaN(tab.Rows[3].Values[1]) {
		t.Errorf("xlsum row %+v", tab.Rows[3])
	}
	if err := tab.Validate(); err != nil {
		t.Error(err)
	}
}

func TestReadSuiteErrors(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		`{"models": [], "tasks": []}`: "at least one model",
		`{"models": [{"path": "m"}], "tasks": [{"task": "t.jsonl", "format": "squad"}]}`:                        "unknown task format",
		`{"models": [{"path": "m"}], "tasks": [{"task": "t.jsonl", "format": "mbpp", "metric": "acc"}]}`:        "no metric \"acc\"",
		`{"models": [{"path": "m"}], "tasks": [{"task": "t.jsonl", "format": "arc", "shots": -1}]}`:             "must be ≥ 0",
		`{"models": [{"path": "m"}], "tasks": [{"task": "t.jsonl", "format": "arc", "sampler": "balanced"}]}`:   "sampler",
		`{"models": [{"path": "m"}], "tasks": [{"task": "t.jsonl", "format": "arc", "shot": 1}]}`:               "unknown field",
		`{"models": [{"name": "x"}], "tasks": [{"task": "t.jsonl", "format": "arc"}]}`:                          "no path",
		`{"models": [{"path": "m"}], "tasks": [{"task": "t.jsonl", "format": "gsm8k", "rouge_stemmer": true}]}`: "xlsum format only",
	} {
		_, err := ReadSuite(writeSuite(t, dir, body))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "suite") {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}

// TestWriteSamples: one JSON object per line with the audit fields.
func TestWriteSamples(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.jsonl")
	in := []Sample{{DocID: "3", Prompt: "Q <b>", Generation: ptr(" 7"), Target: "#### 7", Filtered: map[string]string{"strict-match": "7"}, Metrics: map[string]float64{MetricStrictMatch: 1}},
		{DocID: "4", Prompt: "p", Choices: []string{" a", " b"}, LogLiks: []float64{-1, -2}, Target: " a", Metrics: map[string]float64{"acc": 1}}}
	if err := WriteSamples(p, in); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
		if strings.Contains(sc.Text(), `\u003c`) {
			t.Errorf("HTML-escaped line %s", sc.Text())
		}
	}
	if len(lines) != 2 || lines[0]["doc_id"] != "3" || lines[0]["generation"] != " 7" || lines[1]["loglikelihoods"] == nil {
		t.Errorf("lines %v", lines)
	}
}

func ptr[T any](v T) *T { return &v }
