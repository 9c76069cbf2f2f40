package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// TestImportanceCommand runs the subcommand on a fixture and checks the file
// loads with results.LoadImportance and matches the reference scores.
func TestImportanceCommand(t *testing.T) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	fixture := filepath.Join("..", "..", "testdata", "hf", "dev-qwen2-bias")
	dir := t.TempDir()
	out := filepath.Join(dir, "scores.json")
	err := runImportance([]string{"--model", fixture, "--input", filepath.Join(fixture, "reference.safetensors"),
		"--batch", "2", "--blocks", "2", "--bootstrap", "2", "--skip-mode", "masked", "--out", out, "--quiet"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := results.LoadImportance(out)
	if err != nil {
		t.Fatal(err)
	}
	ref := fixtures.ImportanceIn(t, fixture)
	const relTolerance = 1e-3
	for l := range ref.FFN {
		for j := range ref.FFN[l] {
			if math.Abs(got.FFN[l][j]-ref.FFN[l][j]) > relTolerance*ref.FFN[l][j] {
				t.Fatalf("ffn[%d][%d] = %g, reference %g", l, j, got.FFN[l][j], ref.FFN[l][j])
			}
		}
	}
	if math.Abs(got.LMLoss-ref.LMLoss) > relTolerance*ref.LMLoss || len(got.BlockLMLoss) != 1 || got.RankStability == nil ||
		got.Samples != 4 || got.Tokens != 128 || got.Model != fixture {
		t.Errorf("scores: lm_loss %g (ref %g) block_lm_loss %v rank_stability %v samples %d tokens %d model %q",
			got.LMLoss, ref.LMLoss, got.BlockLMLoss, got.RankStability, got.Samples, got.Tokens, got.Model)
	}
	if f := got; f.NumKVHeads != 2 || len(f.HeadRankByGroup) != 2 || len(f.HeadRankByGroup[0]) != 2 || f.StabilitySummary == nil {
		t.Errorf("head rankings: kv %d rankings %v summary %v", f.NumKVHeads, f.HeadRankByGroup, f.StabilitySummary)
	}
}

// TestImportanceDryRun: --dry-run prints the plan (4 samples in batches of
// 3: 2 batches; the fixture's layers as drop-one passes) and writes nothing.
func TestImportanceDryRun(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "hf", "dev-qwen2-bias")
	out := filepath.Join(t.TempDir(), "scores.json")
	stdout := captureStdout(t, func() error {
		return runImportance([]string{"--model", fixture, "--input", filepath.Join(fixture, "reference.safetensors"),
			"--batch", "3", "--blocks", "2", "--out", out, "--dry-run", "--quiet"})
	})
	var plan importance.Plan
	if err := json.Unmarshal(stdout, &plan); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	cfg, err := llm.LoadConfig(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Batches != 2 || plan.Samples != 4 || len(plan.Stages) != 3 || plan.Stages[1].Passes != cfg.NumLayers ||
		plan.Stages[2].Passes != cfg.NumLayers-1 || plan.EstimatedSeconds <= 0 {
		t.Errorf("plan %+v", plan)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("--dry-run wrote the scores file")
	}
}

func TestImportanceCommandErrors(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "hf", "dev-qwen2-bias")
	input := filepath.Join(fixture, "reference.safetensors")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--input", input, "--out", "x.json"}, "--model"},
		{[]string{"--model", fixture, "--input", input}, "--out"},
		{[]string{"--model", fixture, "--out", "x.json"}, "exactly one of --input and --data"},
		{[]string{"--model", fixture, "--input", input, "--data", "c.txt", "--out", "x.json"}, "exactly one"},
		{[]string{"--model", fixture, "--input", input, "--batch-agg", "max", "--out", "x.json"}, "batch aggregation"},
		{[]string{"--model", fixture, "--input", input, "--dtype", "int8", "--out", "x.json"}, "--dtype"},
		{[]string{"--model", fixture, "--input", input, "--skip-mode", "lazy", "--out", "x.json"}, "--skip-mode"},
		{[]string{"--model", fixture, "--input", filepath.Join(fixture, "missing.safetensors"), "--out", "x.json"}, "missing.safetensors"},
	} {
		err := runImportance(append(tc.args, "--quiet"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}

// TestImportanceCommandData samples calibration windows from a text corpus
// tokenized with the model folder's tokenizer (random model, vocab 2048).
func TestImportanceCommandData(t *testing.T) {
	t.Setenv("GOMINITRON_DATA", t.TempDir()) // the packed-corpus cache
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	dir := t.TempDir()
	modelDir := filepath.Join(dir, "model")
	cfg := &llm.Config{ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: 2048, Hidden: 32, FFN: 64,
		NumLayers: 3, NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 128, RMSNormEps: 1e-5, HiddenAct: "silu",
		RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"}, TorchDType: "float32"}
	m, err := llm.InitWeights(cfg, dtypes.Float32, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := llm.SaveModel(modelDir, m, llm.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	tokJSON, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hf", "dev-tokenizer-llama3style", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(modelDir, "tokenizer.json"), tokJSON, 0o644)
	corpus := filepath.Join(dir, "corpus.txt")
	os.WriteFile(corpus, []byte(strings.Repeat("The grand jury commented on a number of other topics, among them the purchasing departments. ", 20)), 0o644)

	out := filepath.Join(dir, "scores.json")
	err = runImportance([]string{"--model", modelDir, "--data", corpus, "--samples", "6", "--seq-len", "24", "--batch", "3",
		"--bootstrap", "2", "--batch-agg", "var", "--seq-agg", "l2", "--out", out, "--quiet"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := results.LoadImportance(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Samples != 6 || got.SeqLen != 24 || got.Tokens != 6*24 || got.BatchAgg != "var" || got.SeqAgg != "l2" ||
		len(got.FFN) != 3 || len(got.FFN[0]) != 64 || len(got.DropOneLMLoss) != 3 || got.RankStability == nil {
		t.Errorf("scores: %+v", got)
	}
}
