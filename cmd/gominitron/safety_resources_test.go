package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/llm"
)

// Resource and number safety of the commands (docs/reliability-resources.md):
// hostile sizes are refused before anything big is allocated, flags are
// validated instead of replaced by defaults, and NaN/Inf are errors.

// boundedArgsEnv carries the command line of a runBounded child process.
const boundedArgsEnv = "GOMINITRON_BOUNDED_ARGS"

// Limits of the child process: address space (ulimit -v, KiB) and the Go
// soft memory limit, which llm.AvailableMemory takes as the memory available.
const (
	boundedAddressSpaceKiB = 8 << 20 // 8 GiB: a regression that allocates dies here, not the machine
	boundedGoMemLimit      = "2GiB"
)

// TestBoundedChild is the child process of runBounded: it runs the
// gominitron command line from boundedArgsEnv and exits with its status.
func TestBoundedChild(t *testing.T) {
	raw := os.Getenv(boundedArgsEnv)
	if raw == "" {
		t.Skip("helper process of runBounded")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"gominitron"}, args...)
	main()
	os.Exit(0)
}

// runBounded runs a gominitron command line in a child process under
// ulimit -v and GOMEMLIMIT (so a refusal that regresses into a real
// allocation fails the test instead of exhausting the machine) and returns
// its exit code and stderr. A Go panic or runtime fatal error fails the test.
func runBounded(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	js, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `ulimit -v "$1" && exec "$0" -test.run='^TestBoundedChild$'`,
		os.Args[0], strconv.Itoa(boundedAddressSpaceKiB))
	cmd.Env = append(os.Environ(), boundedArgsEnv+"="+string(js), "GOMLX_BACKEND=go", "GOMEMLIMIT="+boundedGoMemLimit)
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	msg := stderr.String()
	for _, trace := range []string{"panic:", "fatal error:", "goroutine "} {
		if strings.Contains(msg, trace) {
			t.Fatalf("%v: Go trace in stderr:\n%s", args, msg)
		}
	}
	return code, msg
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// writeFile writes content under dir and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	devModel  = "../../testdata/hf/dev-llama-gqa"   // max_position_embeddings 256, no tokenizer
	demoModel = "../../models/demo-teacher"         // max_position_embeddings 256, with tokenizer.json
	devInput  = devModel + "/reference.safetensors" // input_ids [4, 32]
)

// demoCorpus writes a small text corpus (packed with the demo tokenizer on use).
func demoCorpus(t *testing.T) string {
	return writeFile(t, t.TempDir(), "corpus.txt",
		strings.Repeat("The grand jury commented on a number of other topics, among them the purchasing departments.\n", 40))
}

// TestOutOfMemoryRefusedBeforeAllocating: each of these used to die with
// "fatal error: runtime: out of memory" (or swamp the machine). Each now
// exits 1 with "needs ~X GiB, about Y GiB available" or a size limit, under
// an 8 GiB address-space limit.
func TestOutOfMemoryRefusedBeforeAllocating(t *testing.T) {
	dir := t.TempDir()
	tok61 := writeFile(t, dir, "tok61.json", `{"model":{"type":"BPE","vocab":{"a":2147483647},"merges":[]}}`)
	// 2^18 vocab, hidden 2^16, 64 layers: parses (3.9e12 parameters), but needs ~7.2 TiB in bfloat16.
	hugeShape := writeFile(t, dir, "huge-shape.json", `{"model_type":"llama","vocab_size":262144,"hidden_size":65536,
		"intermediate_size":262144,"num_hidden_layers":64,"num_attention_heads":512,"num_key_value_heads":64}`)
	recipe := strings.NewReplacer(`"hidden_size": 128`, `"hidden_size": 67108864`, `"intermediate_size": 352`, `"intermediate_size": 67108864`).
		Replace(string(must(os.ReadFile("../../recipes/teacher-cpu.json"))))
	hugeRecipe := writeFile(t, dir, "huge-recipe.json", recipe)
	corpus := demoCorpus(t)
	cache := []string{"GOMINITRON_DATA=" + t.TempDir()}

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"tokenizer.json with vocab id 2^31-1", []string{"tokenize", "--tokenizer", tok61, "--text", "a"},
			`vocab token "a" has id 2147483647, implausibly large`},
		{"generate 1e9 new tokens", []string{"generate", "--model", devModel, "--prompt", "1,2,3", "--max-new-tokens", "1000000000"},
			"exceeds the model's max_position_embeddings 256 (at most 253 new tokens)"},
		{"bench --config of a huge shape", []string{"bench", "--config", hugeShape, "--random", "--output-len", "2", "--input-len", "2"},
			"llm.InitWeights: random bfloat16 weights needs ~"},
		{"bench --batch 1e9", []string{"bench", "--model", devModel, "--batch", "1000000000", "--input-len", "8", "--output-len", "8"},
			"evaluate: bench batch 1000000000 × (8 + 8) tokens needs ~"},
		{"bench beyond max_position_embeddings", []string{"bench", "--model", devModel, "--input-len", "250", "--output-len", "8"},
			"input-len + output-len 258 exceeds the model's max_position_embeddings 256"},
		{"train recipe with hidden 2^26", []string{"train", "--recipe", hugeRecipe, "--out", filepath.Join(dir, "run")},
			`train: recipe "teacher-cpu" (hidden 67108864, ffn 67108864, 4 layers, vocab 4096) on batches of 16 × 128 tokens needs ~`},
		{"importance --samples 1e9", []string{"importance", "--model", demoModel, "--data", corpus, "--samples", "1000000000", "--seq-len", "64", "--out", filepath.Join(dir, "s.json")},
			"importance: 1000000000 calibration samples × 64 tokens needs ~"},
		{"distill with a batch of 1e8 sequences", []string{"distill", "--teacher", demoModel, "--student", demoModel, "--data", corpus, "--out", filepath.Join(dir, "student"),
			"--steps", "1", "--batch", "100000000", "--seq-len", "64"},
			"distill: teacher forward + student training on batches of 100000000 × 64 tokens needs ~"},
		{"finetune with a batch of 1e8 sequences", []string{"finetune", "--model", demoModel, "--data", corpus, "--out", filepath.Join(dir, "ft"),
			"--steps", "1", "--batch", "100000000", "--seq-len", "64"},
			"train: fine-tuning ../../models/demo-teacher on batches of 100000000 × 64 tokens needs ~"},
		{"inspect of a config whose parameter count overflows", []string{"inspect", "--model", filepath.Dir(writeFile(t, dir, "overflow/config.json",
			`{"model_type":"llama","vocab_size":67108864,"hidden_size":67108864,"intermediate_size":67108864,"num_hidden_layers":4096,"num_attention_heads":1,"head_dim":67108864}`))},
			"more than 9.2e18 parameters, implausibly many"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runBounded(t, cache, tc.args...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr, tc.want)
			}
			if strings.Contains(tc.want, "needs ~") && !strings.Contains(stderr, "GiB available") {
				t.Errorf("refusal does not say what is available: %s", stderr)
			}
		})
	}
}

// TestInspectHugeConfigCountsExactly: a config far beyond any real model but
// within the limits prints exact counts (the attention count used to
// overflow to 0).
func TestInspectHugeConfigCountsExactly(t *testing.T) {
	dir := t.TempDir()
	// hidden 2^16, 512 heads × 128, 512 KV heads, ffn 2^18, vocab 2^18, 4096 layers.
	writeFile(t, dir, "config.json", `{"model_type":"llama","vocab_size":262144,"hidden_size":65536,"intermediate_size":262144,
		"num_hidden_layers":4096,"num_attention_heads":512,"num_key_value_heads":512,"head_dim":128}`)
	out := captureStdout(t, func() error { return runInspect([]string{"--model", dir}) })
	var got struct {
		Params llm.ParamCount `json:"params"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	// Per layer: q, k, v, o are each 2^16 × 2^16 = 2^32 → 2^34; × 2^12 layers = 2^46.
	// MLP: 3 × 2^18 × 2^16 × 2^12 = 3·2^46. Embeddings (untied): 2 × 2^18 × 2^16 = 2^35.
	const wantAttention, wantMLP, wantEmbedding = int64(1) << 46, 3 * (int64(1) << 46), int64(1) << 35
	if got.Params.Attention != wantAttention || got.Params.MLP != wantMLP || got.Params.Embedding != wantEmbedding {
		t.Errorf("params %+v, want attention %d, mlp %d, embedding %d", got.Params, wantAttention, wantMLP, wantEmbedding)
	}
}

// TestFlagsValidatedNotReplaced: out-of-range flag values are errors naming
// the flag, never silently replaced by the default (as distill --temperature
// 0, --batch 0, --accum 0 and eval --batch -1 were).
func TestFlagsValidatedNotReplaced(t *testing.T) {
	distillBase := []string{"--teacher", "t", "--student", "s", "--data", "d", "--out", "o", "--steps", "3"}
	cases := []struct {
		cmd  string
		run  func([]string) error
		args []string
		want string
	}{
		{"distill", runDistill, append([]string{"--temperature", "0"}, distillBase...), "--temperature must be > 0, got 0"},
		{"distill", runDistill, append([]string{"--temperature", "NaN"}, distillBase...), "--temperature must be a finite number, got NaN"},
		{"distill", runDistill, append([]string{"--batch", "0"}, distillBase...), "--batch must be > 0, got 0"},
		{"distill", runDistill, append([]string{"--accum", "0"}, distillBase...), "--accum must be > 0, got 0"},
		{"distill", runDistill, append([]string{"--lr", "0"}, distillBase...), "--lr must be > 0, got 0"},
		{"distill", runDistill, append([]string{"--clip", "-1"}, distillBase...), "--clip must be > 0, got -1"},
		{"distill", runDistill, append([]string{"--seq-len", "-4"}, distillBase...), "--seq-len must be > 0, got -4"},
		{"eval", runEval, []string{"--model", devModel, "--data", devInput, "--batch", "-1"}, "--batch must be > 0, got -1"},
		{"eval", runEval, []string{"--model", devModel, "--data", devInput, "--batch", "0"}, "--batch must be > 0, got 0"},
		{"eval", runEval, []string{"--model", devModel, "--data", devInput, "--stride", "-1"}, "--stride must be ≥ 0, got -1"},
		{"importance", runImportance, []string{"--model", devModel, "--input", devInput, "--batch", "0", "--out", "x.json"}, "--batch must be > 0, got 0"},
		{"importance", runImportance, []string{"--model", devModel, "--input", devInput, "--samples", "-1", "--out", "x.json"}, "--samples must be > 0, got -1"},
		{"generate", runGenerateCommand, []string{"--model", devModel, "--prompt", "1", "--max-new-tokens", "2", "--top-k", "-1"}, "--top-k must be ≥ 0, got -1"},
		{"bench", runBench, []string{"--model", devModel, "--repeats", "0"}, "--repeats must be > 0, got 0"},
		{"finetune", runFinetune, []string{"--model", devModel, "--data", "d", "--out", "o", "--batch", "0"}, "--batch must be > 0, got 0"},
		{"finetune", runFinetune, []string{"--model", devModel, "--data", "d", "--out", "o", "--lr-factor", "Inf"}, "--lr-factor must be a finite number"},
		{"train", runTrain, []string{"--recipe", "r.json", "--out", "o", "--steps", "-5"}, "--steps must be ≥ 0, got -5"},
		{"prune", runPrune, []string{"--model", devModel, "--ffn", "-3", "--out", "o"}, "--ffn must be ≥ 0, got -3"},
		{"data pack", runDataPack, []string{"--tokenizer", "t", "--out", "o", "--workers", "-2", "in.txt"}, "--workers must be ≥ 0, got -2"},
		{"tokenizer train", runTokenizerTrain, []string{"--vocab", "-1", "--out", "o", "in.txt"}, "--vocab must be ≥ 0, got -1"},
		{"search", runSearch, []string{"--tolerance", "0"}, "--tolerance must be > 0, got 0"},
		{"reproduce", runReproduce, []string{"kd-vs-ce", "--seeds", "-1"}, "--seeds must be ≥ 0, got -1"},
		{"data pack", runDataPack, []string{"--tokenizer", "t", "--out", "o", "--val", "-0.1", "in.txt"}, "--val must be ≥ 0, got -0.1"},
	}
	for _, tc := range cases {
		err := tc.run(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: err = %v, want %q", tc.cmd, tc.args, err, tc.want)
		}
	}
}

// TestLengthsCheckedAgainstMaxPositions: eval and distill refuse sequences
// longer than max_position_embeddings, as importance and finetune do.
func TestLengthsCheckedAgainstMaxPositions(t *testing.T) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		t.Setenv("GOMLX_BACKEND", "go")
	}
	t.Setenv("GOMINITRON_DATA", t.TempDir())
	corpus := demoCorpus(t)
	out := filepath.Join(t.TempDir(), "student")
	cases := []struct {
		cmd  string
		run  func([]string) error
		args []string
		want string
	}{
		{"eval", runEval, []string{"--model", devModel, "--data", devInput, "--seq-len", "300", "--quiet"},
			"evaluate: seq-len 300 exceeds the model's max length 256"},
		{"distill", runDistill, []string{"--teacher", demoModel, "--student", demoModel, "--data", corpus, "--out", out, "--steps", "1", "--seq-len", "300"},
			"seq_len 300 exceeds the model's max_position_embeddings 256"},
		{"finetune", runFinetune, []string{"--model", demoModel, "--data", corpus, "--out", out, "--steps", "1", "--seq-len", "300"},
			"seq_len 300 + 1 exceeds the model's max_position_embeddings 256"},
		{"importance", runImportance, []string{"--model", demoModel, "--data", corpus, "--samples", "2", "--seq-len", "300", "--out", filepath.Join(t.TempDir(), "s.json")},
			"sequence length 300 is longer than the model context of 256 tokens"},
	}
	for _, tc := range cases {
		err := tc.run(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.cmd, err, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("refused distill created %s", out)
	}
}

// TestNonFiniteWeightsAreErrors: a checkpoint with a NaN weight used to make
// generate print [1,2,3,0,0,0,0,0] and eval fail in JSON encoding; every
// command refuses it at load naming the tensor.
func TestNonFiniteWeightsAreErrors(t *testing.T) {
	if os.Getenv("GOMLX_BACKEND") == "" {
		t.Setenv("GOMLX_BACKEND", "go")
	}
	nan := fixtures.WithNonFinite(t, "dev-llama-gqa", "model.layers.0.self_attn.k_proj.weight", 17, fixtures.NaN)
	inf := fixtures.WithNonFinite(t, "dev-llama-gqa", "lm_head.weight", 0, float32(math.Inf(1)))
	input := filepath.Join(t.TempDir(), "in.safetensors")
	if err := os.WriteFile(input, must(os.ReadFile(devInput)), 0o644); err != nil {
		t.Fatal(err)
	}
	const wantNaN = `weight "model.layers.0.self_attn.k_proj.weight" [32 64]: element 17 is NaN`
	cases := []struct {
		cmd  string
		run  func([]string) error
		args []string
		want string
	}{
		{"generate", runGenerateCommand, []string{"--model", nan, "--prompt", "1,2,3", "--max-new-tokens", "5"}, wantNaN},
		{"eval", runEval, []string{"--model", nan, "--data", input, "--quiet"}, wantNaN},
		{"importance", runImportance, []string{"--model", nan, "--input", input, "--out", filepath.Join(t.TempDir(), "s.json")}, wantNaN},
		{"forward", runForwardCommand, []string{"--model", nan, "--input", input, "--out", filepath.Join(t.TempDir(), "o.safetensors")}, wantNaN},
		{"bench", runBench, []string{"--model", nan, "--input-len", "4", "--output-len", "2", "--repeats", "1"}, wantNaN},
		{"generate +Inf", runGenerateCommand, []string{"--model", inf, "--prompt", "1,2,3", "--max-new-tokens", "5"},
			`weight "lm_head.weight" [512 64]: element 0 is +Inf`},
	}
	for _, tc := range cases {
		err := tc.run(tc.args)
		if !errors.Is(err, llm.ErrNonFinite) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.cmd, err, tc.want)
		}
	}
}
