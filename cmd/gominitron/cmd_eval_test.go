package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/safetensors"
)

// randomModelDir writes a random model of the tiny bench shape (vocab 2048,
// like the test tokenizer) with the test tokenizer beside it.
func randomModelDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "recipes", "bench", "tiny-depth.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := llm.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
	w, err := llm.InitWeights(cfg, dtypes.Float32, 3)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.NamedTensor
	for n, v := range w.Weights {
		ts = append(ts, safetensors.NamedTensor{Name: n, T: v})
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hf", "dev-tokenizer-llama3style", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o644)
	return dir
}

func TestEvalCommand(t *testing.T) {
	model := randomModelDir(t)
	tasks := filepath.Join("..", "..", "testdata", "tasks")

	var mc map[string]any
	out := captureStdout(t, func() error {
		return runEval([]string{"--model", model, "--task", filepath.Join(tasks, "arc.jsonl"), "--format", "arc", "--shots", "1", "--quiet"})
	})
	if err := json.Unmarshal(out, &mc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"acc", "acc_norm", "stderr", "n"} {
		if _, ok := mc[k]; !ok {
			t.Errorf("MC JSON lacks %q: %s", k, out)
		}
	}
	if mc["n"].(float64) != 3 {
		t.Errorf("n = %v, want 3", mc["n"])
	}

	corpus := filepath.Join(t.TempDir(), "corpus.jsonl")
	var lines []string
	for d := range 4 {
		lines = append(lines, `{"text": "`+strings.Repeat("Doc "+string(rune('A'+d))+" says a thing here today. ", 6)+`"}`)
	}
	os.WriteFile(corpus, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	var lm struct {
		LMLoss     float64 `json:"lm_loss"`
		Perplexity float64 `json:"perplexity"`
		Tokens     int64   `json:"tokens"`
	}
	out = captureStdout(t, func() error {
		return runEval([]string{"--model", model, "--data", corpus, "--seq-len", "32", "--stride", "16", "--quiet"})
	})
	if err := json.Unmarshal(out, &lm); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if lm.Tokens <= 0 || lm.Perplexity <= 1 || lm.LMLoss <= 0 {
		t.Errorf("LM eval JSON %s", out)
	}

	task := filepath.Join(t.TempDir(), "next.jsonl")
	captureStdout(t, func() error {
		return runEval([]string{"--make-task", task, "--data", corpus, "--n", "5", "--seed", "9", "--quiet"})
	})
	docs, err := evaluate.ReadTask(task, evaluate.FormatMC)
	if err != nil || len(docs) != 5 {
		t.Fatalf("made task: %d docs, %v", len(docs), err)
	}
}

func TestBenchCommand(t *testing.T) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	var res []map[string]any
	out := captureStdout(t, func() error {
		return runBench([]string{"--config", filepath.Join("..", "..", "recipes", "bench", "tiny-depth.json"), "--random",
			"--dtype", "float32", "--batch", "1,2", "--input-len", "8", "--output-len", "3", "--repeats", "1"})
	})
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res) != 2 || res[1]["batch"].(float64) != 2 || res[0]["shape"] != "tiny-depth" {
		t.Errorf("bench grid %s", out)
	}
	for _, args := range [][]string{{"--config", "x.json"}, {"--batch", "4"}, {"--config", "x.json", "--random", "--batch", "0"}} {
		if err := runBench(args); err == nil {
			t.Errorf("bench %v: no error", args)
		}
	}
}

// TestEvalDryRun: --dry-run prints the plan of an LM-loss run (4 documents
// of 40 tokens, seq-len 16: 3 disjoint windows each, 12 windows in batches
// of 5 = 3 batches) and of a multiple-choice run (arc: 3 docs × 4 choices
// in batches of 8 = 2 batches), and writes neither --out nor
// --log-samples; formats it cannot plan are refused by name.
func TestEvalDryRun(t *testing.T) {
	model := randomModelDir(t)
	tmp := t.TempDir()
	ids := make([]int32, 4*40)
	for i := range ids {
		ids[i] = int32(i*37) % 2048
	}
	data := filepath.Join(tmp, "ids.safetensors")
	if err := safetensors.Write(data, []safetensors.NamedTensor{{Name: "input_ids", T: tensors.FromFlatDataAndDimensions(ids, 4, 40)}}, nil); err != nil {
		t.Fatal(err)
	}
	out, samples := filepath.Join(tmp, "out.json"), filepath.Join(tmp, "samples.jsonl")
	tasks := filepath.Join("..", "..", "testdata", "tasks")
	for _, tc := range []struct {
		args                                []string
		task                                string
		docs, sequences, batches, batchSize int
	}{
		{[]string{"--data", data, "--seq-len", "16", "--batch", "5"}, "lm_loss", 4, 12, 3, 5},
		{[]string{"--task", filepath.Join(tasks, "arc.jsonl"), "--format", "arc", "--log-samples", samples}, "arc", 3, 12, 2, 8},
	} {
		var stderr string
		stdout := captureStdout(t, func() error {
			var err error
			stderr, err = captureStderr(t, func() error {
				return runEval(append([]string{"--model", model, "--out", out, "--dry-run"}, tc.args...))
			})
			return err
		})
		var plan evaluate.Plan
		if err := json.Unmarshal(stdout, &plan); err != nil {
			t.Fatalf("%v: %s", err, stdout)
		}
		if plan.Task != tc.task || plan.Docs != tc.docs || plan.Sequences != tc.sequences || plan.Batches != tc.batches ||
			plan.BatchSize != tc.batchSize || plan.WeightBytes <= 0 || plan.EstimatedSeconds <= 0 {
			t.Errorf("%s plan %+v, want %d docs, %d sequences in %d batches of %d", tc.task, plan, tc.docs, tc.sequences, tc.batches, tc.batchSize)
		}
		if !strings.Contains(stderr, "eval: dry run: "+tc.task) {
			t.Errorf("stderr %q lacks the plan line", stderr)
		}
	}
	for _, p := range []string{out, samples} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("--dry-run wrote %s", p)
		}
	}
	for _, args := range [][]string{
		{"--task", filepath.Join(tasks, "gsm8k.jsonl"), "--format", "gsm8k"},
		{"--task", filepath.Join(tasks, "arc.jsonl"), "--format", "arc", "--blocks", "1"},
	} {
		err := runEval(append([]string{"--model", model, "--dry-run", "--quiet"}, args...))
		if err == nil || !strings.Contains(err.Error(), "--dry-run plans") {
			t.Errorf("eval --dry-run %v: error %v, want a refusal", args, err)
		}
	}
}
