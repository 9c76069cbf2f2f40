package llm_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
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

// rssChildEnv selects the child's work ("forward:DIR", "importance:DIR", "prune:DIR|OUT").
const rssChildEnv = "GOMINITRON_RSS_CHILD"

// processBaselineBytes is the child's own footprint (test binary, Go
// runtime, backend, compiled graphs), allowed on top of the stated bound.
const processBaselineBytes = 96 << 20

// pruneWindowBytes is what streamed pruning holds beside its largest output
// tensor: the source pages not yet released (16 MB at a time) and the
// writer's buffers.
const pruneWindowBytes = 32 << 20

// forwardTokens is the child's forward pass: [1, forwardTokens] tokens.
const forwardTokens = 8

// importanceBatch × importanceSeqLen are the importance child's calibration
// tokens: enough positions that the LM loss takes two chunks of logits
// (llm.LogitsChunkPositions is 73 for 2 × 151936), so the bound's
// activations and the chunked head's working set are both exercised.
const importanceBatch, importanceSeqLen = 2, 128

// writeRandomCheckpoint saves a random bfloat16 model of config under
// t.TempDir in shards of shardBytes and returns the folder and config.
func writeRandomCheckpoint(t *testing.T, config string, shardBytes int64) (string, *llm.Config) {
	t.Helper()
	cfg, err := llm.ParseConfig([]byte(config))
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.InitWeights(cfg, dtypes.BFloat16, 1)
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

// peakRSSPrefix starts the line on which a child reports its peak RSS.
const peakRSSPrefix = "child peak RSS bytes: "

// childPeakRSS runs this test in a child process doing work and returns
// its peak resident set size in bytes, as the child reads it (VmHWM of
// /proc/self/status): the rusage of a child started by os/exec also counts
// the parent's memory, which the child shares until it execs.
func childPeakRSS(t *testing.T, work string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+work)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %q: %v\n%s", work, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if _, v, ok := strings.Cut(line, peakRSSPrefix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatalf("child %q: %q: %v", work, line, err)
			}
			return n
		}
	}
	t.Fatalf("child %q did not report its peak RSS:\n%s", work, out)
	return 0
}

// reportPeakRSS prints this process's peak RSS (VmHWM) for the parent.
func reportPeakRSS(t *testing.T) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			fmt.Printf("%s%d\n", peakRSSPrefix, kb*1024)
			return
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
}

// loadChildModel loads dir onto the device for float32 compute, as the
// forward-only commands do.
func loadChildModel(t *testing.T, dir string) (compute.Backend, *llm.Model) {
	be, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.LoadModelOnDevice(dir, dtypes.Float32, be)
	if err != nil {
		t.Fatal(err)
	}
	return be, m
}

// childTokens are batchSize rows of seqLen token ids spread over the vocabulary.
func childTokens(cfg *llm.Config, batchSize, seqLen int) [][]int32 {
	ids := make([][]int32, batchSize)
	for b := range ids {
		ids[b] = make([]int32, seqLen)
		for s := range ids[b] {
			ids[b][s] = int32((b*seqLen+s)*9973) % int32(cfg.VocabSize)
		}
	}
	return ids
}

// runForwardChild is the child's work: load onto the device for float32
// compute, one forward pass.
func runForwardChild(t *testing.T, dir string) {
	be, m := loadChildModel(t, dir)
	r, err := llm.NewRunner(be, m)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	logits, err := r.Logits(childTokens(m.Config, 1, forwardTokens))
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

// runImportanceChild is the child's work: importance.EstimateModel on
// importanceBatch sequences of importanceSeqLen tokens, with the ablation of
// each block of 22 layers (3 removals: the reuse path's per-layer inputs and
// 3 compiled tails; drop-one's 24 would take minutes on 2 cores).
func runImportanceChild(t *testing.T, dir string) {
	be, m := loadChildModel(t, dir)
	ids := childTokens(m.Config, importanceBatch, importanceSeqLen)
	s, err := importance.EstimateModel(be, m, &importance.Calibration{IDs: ids}, importance.Options{BlockSize: 22})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.BlockLMLoss) != 3 {
		t.Fatalf("block losses %v, want 3", s.BlockLMLoss)
	}
}

// runPruneChild is the child's work: prune.Dir dropping layers 4-7.
func runPruneChild(t *testing.T, dir, out string) {
	if _, err := prune.Dir(dir, "", out, prune.Plan{DropLayers: []int{4, 5, 6, 7}}); err != nil {
		t.Fatal(err)
	}
}

// largestTensorBytes is the size of cfg's largest tensor stored as dtype.
func largestTensorBytes(cfg *llm.Config, dtype dtypes.DType) int64 {
	var largest int64
	for _, dims := range cfg.TensorShapes() {
		largest = max(largest, llm.SaturatingProduct(int64(dtype.Size()), int64(dims[0]), int64(dims[len(dims)-1])))
	}
	return largest
}

// TestRealSizePeakRSS: on a random Qwen2.5-0.5B-shape bf16 folder, forward
// work (a forward pass; importance with block ablations) peaks within
// llm.Config.ForwardPeakBytes and pruning (streamed, kept rows copied from
// the mapped file) within the largest tensor plus pruneWindowBytes, each
// plus the process baseline.
func TestRealSizePeakRSS(t *testing.T) {
	if work := os.Getenv(rssChildEnv); work != "" {
		kind, args, _ := strings.Cut(work, ":")
		switch kind {
		case "forward":
			runForwardChild(t, args)
		case "importance":
			runImportanceChild(t, args)
		case "prune":
			dir, out, _ := strings.Cut(args, "|")
			runPruneChild(t, dir, out)
		default:
			t.Fatalf("%s=%q: unknown work", rssChildEnv, work)
		}
		reportPeakRSS(t)
		return
	}
	dir, cfg := writeRandomCheckpoint(t, qwen05Config, 400_000_000)
	weights := cfg.WeightBytes(dtypes.BFloat16)
	for _, tc := range []struct {
		work  string
		bound int64
	}{
		{"forward:" + dir, cfg.ForwardPeakBytes(dtypes.BFloat16, dtypes.Float32, 1, forwardTokens, 0)},
		{"importance:" + dir, int64(math.Ceil(llm.ForwardPeakWeightFactor*float64(weights))) +
			cfg.ChunkedForwardActivationBytes(dtypes.Float32, importanceBatch, importanceSeqLen)},
		{"prune:" + dir + "|" + filepath.Join(t.TempDir(), "pruned"), largestTensorBytes(cfg, dtypes.BFloat16) + pruneWindowBytes},
	} {
		kind, _, _ := strings.Cut(tc.work, ":")
		peak := childPeakRSS(t, tc.work)
		bound := tc.bound + processBaselineBytes
		t.Logf("%s on a random Qwen2.5-0.5B-shape bf16 folder (%s of weights): peak RSS %s = %.2f× the weights (bound %s)",
			kind, llm.FormatBytes(weights), llm.FormatBytes(peak), float64(peak)/float64(weights), llm.FormatBytes(bound))
		if peak > bound {
			t.Errorf("%s: peak RSS %s exceeds the bound %s (%s + %s baseline)",
				kind, llm.FormatBytes(peak), llm.FormatBytes(bound), llm.FormatBytes(tc.bound), llm.FormatBytes(processBaselineBytes))
		}
	}
}
