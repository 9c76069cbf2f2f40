package distill

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/llm"
)

// speedChunk is the logits chunk (positions) of the timed distillation step.
const speedChunk = 256

// TestSpeedDistillStep (scripts/gpu_check.sh; skipped unless
// GOMINITRON_SPEED_CONFIG and GOMINITRON_SPEED_STUDENT are set) times one
// distillation update — teacher forward (weights in the compute dtype) +
// student forward/backward (float32 master weights, compute dtype
// activations) with forward KL over chunked logits + AdamW — on a random
// batch, and writes tokens/s and the parameter counts an MFU needs.
func TestSpeedDistillStep(t *testing.T) {
	shape := fixtures.SpeedShapeFromEnv(t)
	if shape.Student == nil {
		t.Skipf("set %s=student config.json", fixtures.SpeedStudentEnv)
	}
	tcfg, err := llm.ParseConfig(shape.Config)
	if err != nil {
		t.Fatalf("%s: %v", shape.ConfigPath, err)
	}
	scfg, err := llm.ParseConfig(shape.Student)
	if err != nil {
		t.Fatalf("%s: %v", shape.StudentPath, err)
	}
	var dtype dtypes.DType
	switch shape.DType {
	case "float32":
		dtype = dtypes.Float32
	case "bfloat16":
		dtype = dtypes.BFloat16
	default:
		t.Fatalf("%s=%q: want float32 or bfloat16", fixtures.SpeedDTypeEnv, shape.DType)
	}
	teacher, err := llm.InitWeights(tcfg, dtype, 1)
	if err != nil {
		t.Fatal(err)
	}
	student, err := llm.InitWeights(scfg, dtypes.Float32, 2)
	if err != nil {
		t.Fatal(err)
	}
	backend := testBackend(t)
	tr := newDistillTrainer(t, backend, teacher, student, Loss{ChunkSize: speedChunk, DType: dtype, FusedAttention: shape.FusedAttention}, 1e-5)
	batch := randomBatch(rand.New(rand.NewPCG(1, 1)), shape.Batch, shape.SeqLen, tcfg.VocabSize)
	secs := fixtures.TimeRounds(t, shape.Rounds, func() error {
		_, err := tr.TrainStep([]*tensors.Tensor{batch}) // reads the loss back: waits for the device
		return err
	})
	// Parameters in matmuls (the lm_head counted even when tied): MFU = (6·student + 2·teacher)·tokens/s / peak.
	matmulParams := func(c *llm.Config) int64 { return c.Params().NonEmbedding + int64(c.VocabSize*c.Hidden) }
	fixtures.WriteSpeedResult(t, map[string]any{
		"shape": shape.String(), "student": shape.StudentPath, "backend": backend.Name(), "device": backend.Description(),
		"step_seconds": secs[0], "tokens_per_sec": float64(shape.Batch*shape.SeqLen) / secs[0],
		"teacher_matmul_params": matmulParams(tcfg), "student_matmul_params": matmulParams(scfg), "chunk": speedChunk,
		"fused_attention": shape.FusedAttention,
	})
}
