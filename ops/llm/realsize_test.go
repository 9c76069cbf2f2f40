package llm_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/llm"
)

// Real-size memory: a random bfloat16 checkpoint of Qwen2.5-0.5B's shape
// (qwen2: attention biases, vocab 151936, tied embeddings; 0.99 GB of
// weights, 3 shards) is written to a temporary folder, and a child process
// (this test binary) does the work while the parent reads its peak RSS.

// qwen05Config is Qwen2.5-0.5B's config.json (shape only).
const qwen05Config = `{"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","hidden_size":896,
"intermediate_size":4864,"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,
"vocab_size":151936,"tie_word_embeddings":true,"max_position_embeddings":32768,"rms_norm_eps":1e-6,
"rope_theta":1000000.0,"hidden_act":"silu","torch_dtype":"bfloat16"}`

// rssChildEnv selects the child's work ("forward:DIR").
const rssChildEnv = "GOMINITRON_RSS_CHILD"

// processBaselineBytes is the child's own footprint (test binary, Go
// runtime, backend, compiled graphs), allowed on top of the stated bound.
const processBaselineBytes = 96 << 20

// forwardTokens is the child's forward pass: [1, forwardTokens] tokens.
const forwardTokens = 8

// writeRandomCheckpoint saves a random bfloat16 model of config under
// t.TempDir in shards of shardBytes and returns the folder and config.
func writeRandomCheckpoint(t *testing.T, config string, shardBytes int64) (string, *llm.Config) {
	t.Helper()
	cfg, err := llm.ParseConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	m, err := evaluate.RandomWeights(cfg, dtypes.BFloat16, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := llm.SaveModel(dir, m, llm.SaveOptions{DType: dtypes.BFloat16, ShardBytes: shardBytes}); err != nil {
		t.Fatal(err)
	}
	m = nil
	debug.FreeOSMemory()
	return dir, cfg
}

// childPeakRSS runs this test in a child process doing work and returns
// its peak resident set size in bytes.
func childPeakRSS(t *testing.T, work string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+work)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %q: %v\n%s", work, err, out)
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024 // Linux reports kB
}

// runForwardChild is the child's work: load for float32 compute, move to
// the device, one forward pass.
func runForwardChild(t *testing.T, dir string) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.LoadModelForCompute(dir, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.MoveToDevice(be); err != nil {
		t.Fatal(err)
	}
	r, err := llm.NewRunner(be, m)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids := make([]int32, forwardTokens)
	for i := range ids {
		ids[i] = int32(i*9973) % int32(m.Config.VocabSize)
	}
	logits, err := r.Logits([][]int32{ids})
	if err != nil {
		t.Fatal(err)
	}
	if got := logits.Shape().Dimensions; len(got) != 3 || got[2] != m.Config.VocabSize {
		t.Fatalf("logits shape %v", got)
	}
	if err := llm.CheckFiniteValues("logits", tensors.MustCopyFlatData[float32](logits)); err != nil {
		t.Fatal(err)
	}
}

func TestRealSizeForwardPeakRSS(t *testing.T) {
	if work := os.Getenv(rssChildEnv); work != "" {
		var dir string
		if _, err := fmt.Sscanf(work, "forward:%s", &dir); err != nil {
			t.Fatalf("%s=%q: %v", rssChildEnv, work, err)
		}
		runForwardChild(t, dir)
		return
	}
	dir, cfg := writeRandomCheckpoint(t, qwen05Config, 400_000_000)
	peak := childPeakRSS(t, "forward:"+dir)
	weights := cfg.WeightBytes(dtypes.BFloat16)
	bound := cfg.ForwardPeakBytes(dtypes.BFloat16, dtypes.Float32, 1, forwardTokens, 0) + processBaselineBytes
	t.Logf("forward on a random Qwen2.5-0.5B-shape bf16 folder: peak RSS %s = %.2f× the %s of weights (bound %s)",
		llm.FormatBytes(peak), float64(peak)/float64(weights), llm.FormatBytes(weights), llm.FormatBytes(bound))
	if peak > bound {
		t.Errorf("peak RSS %s exceeds the bound %s (%.1f× weights + activations + %s baseline)",
			llm.FormatBytes(peak), llm.FormatBytes(bound), llm.ForwardPeakWeightFactor, llm.FormatBytes(processBaselineBytes))
	}
}
