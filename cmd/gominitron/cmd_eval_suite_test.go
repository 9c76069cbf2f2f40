package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/results"
)

func copyTask(t *testing.T, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tasks", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

// TestEvalGenerationTaskCommand: --format gsm8k and truthfulqa_mc2 with
// --log-samples write one audited line per example.
func TestEvalGenerationTaskCommand(t *testing.T) {
	model := randomModelDir(t)
	dir := t.TempDir()
	tasks := filepath.Join("..", "..", "testdata", "tasks")
	for _, c := range []struct {
		format, file, metric string
		extra                []string
		n                    int
	}{
		{"gsm8k", "gsm8k.jsonl", "exact_match,flexible-extract", []string{"--shots", "1", "--max-gen-tokens", "6", "--limit", "3"}, 3},
		{"truthfulqa_mc2", "truthfulqa_mc.jsonl", "mc2", nil, 3},
		{"arc", "arc.jsonl", "", []string{"--shots", "1"}, 3},
		{"xlsum", "xlsum.jsonl", "rougeLsum", []string{"--rouge-stemmer", "--max-gen-tokens", "4", "--limit", "2"}, 2},
	} {
		samples := filepath.Join(dir, c.format+".jsonl")
		args := append([]string{"--model", model, "--task", filepath.Join(tasks, c.file), "--format", c.format, "--quiet", "--log-samples", samples}, c.extra...)
		out := captureStdout(t, func() error { return runEval(args) })
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s: %v: %s", c.format, err, out)
		}
		if c.metric != "" {
			m, _ := res["metrics"].(map[string]any)
			if _, ok := m[c.metric]; !ok || res["n"].(float64) != float64(c.n) {
				t.Errorf("%s: result %s", c.format, out)
			}
		}
		lines := jsonLines(t, samples)
		if len(lines) != c.n {
			t.Fatalf("%s: %d sample lines, want %d", c.format, len(lines), c.n)
		}
		for _, k := range []string{"doc_id", "prompt", "target", "metrics"} {
			if _, ok := lines[0][k]; !ok {
				t.Errorf("%s sample lacks %q: %v", c.format, k, lines[0])
			}
		}
		if c.format == "gsm8k" {
			if _, ok := lines[0]["generation"]; !ok {
				t.Errorf("gsm8k sample lacks the generation: %v", lines[0])
			}
			if _, ok := lines[0]["filtered"]; !ok {
				t.Errorf("gsm8k sample lacks the filtered answers: %v", lines[0])
			}
			if !strings.HasSuffix(lines[0]["prompt"].(string), "\nAnswer:") {
				t.Errorf("gsm8k prompt %q", lines[0]["prompt"])
			}
		} else if c.format == "xlsum" {
			if _, ok := lines[0]["generation"]; !ok {
				t.Errorf("xlsum sample lacks the generation: %v", lines[0])
			}
		} else if _, ok := lines[0]["loglikelihoods"]; !ok {
			t.Errorf("%s sample lacks loglikelihoods: %v", c.format, lines[0])
		}
	}
}

// TestEvalSuiteCommand: two models × three formats → JSON table on stdout,
// Markdown and plot files, one samples file per model and benchmark.
func TestEvalSuiteCommand(t *testing.T) {
	model := randomModelDir(t)
	dir := t.TempDir()
	for _, f := range []string{"piqa.jsonl", "gsm8k.jsonl", "xlsum.jsonl"} {
		copyTask(t, dir, f)
	}
	suite := filepath.Join(dir, "suite.json")
	os.WriteFile(suite, []byte(`{"models": [{"name": "a", "path": "`+model+`"}, {"name": "b", "path": "`+model+`"}],
	  "tasks": [{"task": "piqa.jsonl", "format": "piqa", "shots": 1},
	            {"task": "gsm8k.jsonl", "format": "gsm8k", "shots": 1, "limit": 2, "max_gen_tokens": 4},
	            {"benchmark": "xlsum en", "task": "xlsum.jsonl", "format": "xlsum", "limit": 2, "max_gen_tokens": 4}]}`), 0o644)
	md, png, samples := filepath.Join(dir, "t.md"), filepath.Join(dir, "t.png"), filepath.Join(dir, "samples")
	out := captureStdout(t, func() error {
		return runEval([]string{"--suite", suite, "--quiet", "--markdown", md, "--plot", png, "--log-samples", samples})
	})
	var tab results.BenchmarkTable
	if err := json.Unmarshal(out, &tab); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(tab.Models) != 2 || len(tab.Rows) != 3 || tab.Rows[1].Metric != "exact_match,strict-match" || tab.Rows[2].Benchmark != "xlsum en" {
		t.Fatalf("table %+v", tab)
	}
	for _, r := range tab.Rows {
		if r.Values[0] != r.Values[1] { // the same model twice
			t.Errorf("row %s: %v differ for the same model", r.Benchmark, r.Values)
		}
	}
	b, err := os.ReadFile(md)
	if err != nil || !strings.HasPrefix(string(b), "| benchmark | shots | metric | a | b |") {
		t.Errorf("markdown %q %v", b, err)
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Errorf("plot: %v", err)
	}
	for _, name := range []string{"a__piqa.jsonl", "b__gsm8k.jsonl", "b__xlsum_en.jsonl"} {
		if n := len(jsonLines(t, filepath.Join(samples, name))); n == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

func TestEvalSuiteErrors(t *testing.T) {
	dir := t.TempDir()
	copyTask(t, dir, "mbpp.jsonl")
	suite := filepath.Join(dir, "suite.json")
	os.WriteFile(suite, []byte(`{"models": [{"path": "`+dir+`"}], "tasks": [{"task": "mbpp.jsonl", "format": "mbpp"}]}`), 0o644)
	t.Setenv("PATH", t.TempDir()) // no bwrap
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--suite", suite, "--quiet"}, "bubblewrap"},
		{[]string{"--suite", suite, "--model", dir}, "--suite"},
		{[]string{"--suite", filepath.Join(dir, "missing.json")}, "missing.json"},
	} {
		err := runEval(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// TestEvalOutputsNeverInsideInputs: --log-samples, --markdown and --plot
// may not overwrite a task file or write into a model folder.
func TestEvalOutputsNeverInsideInputs(t *testing.T) {
	model := randomModelDir(t)
	dir := t.TempDir()
	copyTask(t, dir, "gsm8k.jsonl")
	copyTask(t, dir, "arc.jsonl")
	task := filepath.Join(dir, "gsm8k.jsonl")
	before, _ := os.ReadFile(task)
	suite := filepath.Join(dir, "suite.json")
	os.WriteFile(suite, []byte(`{"models": [{"path": "`+model+`"}], "tasks": [{"task": "gsm8k.jsonl", "format": "gsm8k", "limit": 1, "max_gen_tokens": 2}]}`), 0o644)
	for _, args := range [][]string{
		{"--model", model, "--task", task, "--format", "gsm8k", "--limit", "1", "--max-gen-tokens", "2", "--quiet", "--log-samples", task},
		{"--model", model, "--task", filepath.Join(dir, "arc.jsonl"), "--format", "arc", "--quiet", "--log-samples", filepath.Join(model, "s.jsonl")},
		{"--suite", suite, "--quiet", "--markdown", task},
		{"--suite", suite, "--quiet", "--log-samples", filepath.Join(model, "samples")},
		{"--suite", suite, "--quiet", "--plot", suite},
	} {
		err := runEval(args)
		if err == nil || !strings.Contains(err.Error(), "would write into the input") {
			t.Errorf("%v: error %v, want a refusal", args, err)
		}
	}
	if after, _ := os.ReadFile(task); string(after) != string(before) {
		t.Error("the task file was changed")
	}
	if _, err := os.Stat(filepath.Join(model, "samples")); err == nil {
		t.Error("a samples folder was created inside the model")
	}
}

// TestEvalRougeStemmerNeedsXLSum: the stemmer flag is refused for a format
// that has no ROUGE metric instead of being ignored.
func TestEvalRougeStemmerNeedsXLSum(t *testing.T) {
	task := filepath.Join("..", "..", "testdata", "tasks", "gsm8k.jsonl")
	err := runEval([]string{"--model", t.TempDir(), "--task", task, "--format", "gsm8k", "--rouge-stemmer"})
	if err == nil || !strings.Contains(err.Error(), "--rouge-stemmer applies to --format xlsum only") {
		t.Errorf("error %v, want the xlsum-only refusal", err)
	}
}

// TestEvalFewshotFile: --fewshot takes the examples from another file (the
// harness's few-shot split), for generation and multiple-choice formats.
func TestEvalFewshotFile(t *testing.T) {
	model := randomModelDir(t)
	dir := t.TempDir()
	tasks := filepath.Join("..", "..", "testdata", "tasks")
	few := filepath.Join(dir, "few.jsonl")
	os.WriteFile(few, []byte(`{"question": "Fewshot question?", "answer": "It is 2.\n#### 2"}`+"\n"), 0o644)
	samples := filepath.Join(dir, "gsm8k-samples.jsonl")
	captureStdout(t, func() error {
		return runEval([]string{"--model", model, "--task", filepath.Join(tasks, "gsm8k.jsonl"), "--format", "gsm8k", "--shots", "1",
			"--fewshot", few, "--limit", "2", "--max-gen-tokens", "2", "--quiet", "--log-samples", samples})
	})
	for _, s := range jsonLines(t, samples) {
		if p := s["prompt"].(string); !strings.HasPrefix(p, "Question: Fewshot question?\nAnswer: It is 2.\n#### 2\n\nQuestion: ") {
			t.Errorf("gsm8k prompt does not start with the few-shot file's example: %q", p)
		}
	}
	arcFew := filepath.Join(dir, "arc-few.jsonl")
	os.WriteFile(arcFew, []byte(`{"question": "Fewshot arc?", "choices": {"text": ["yes", "no"], "label": ["A", "B"]}, "answerKey": "A"}`+"\n"), 0o644)
	arcSamples := filepath.Join(dir, "arc-samples.jsonl")
	captureStdout(t, func() error {
		return runEval([]string{"--model", model, "--task", filepath.Join(tasks, "arc.jsonl"), "--format", "arc", "--shots", "1",
			"--fewshot", arcFew, "--quiet", "--log-samples", arcSamples})
	})
	for _, s := range jsonLines(t, arcSamples) {
		if p := s["prompt"].(string); !strings.HasPrefix(p, "Question: Fewshot arc?\nAnswer: yes\n\nQuestion: ") {
			t.Errorf("arc prompt does not start with the few-shot file's example: %q", p)
		}
	}
	if err := runEval([]string{"--model", model, "--task", filepath.Join(tasks, "arc.jsonl"), "--format", "arc", "--shots", "2", "--fewshot", arcFew, "--quiet"}); err == nil || !strings.Contains(err.Error(), "few-shot file has 1") {
		t.Errorf("2 shots from a 1-example few-shot file: error %v", err)
	}
}
