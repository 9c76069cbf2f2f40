package train

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
)

// bf16LossTol: bfloat16 compute vs float32 on the initial loss (~ln vocab).
const bf16LossTol = 0.05

func tinyLlama() *llm.Config {
	return &llm.Config{ModelType: "llama", VocabSize: 64, Hidden: 32, FFN: 48, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 8,
		MaxPositions: 32, RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"}}
}

// newLMTrainer is a trainer of the LM loss (compute dtype dt) on a
// llm.InitWeights(cfg, float32, seed).
func newLMTrainer(tb testing.TB, cfg *llm.Config, seed uint64, dt dtypes.DType, c Config) *Trainer {
	tb.Helper()
	m, err := llm.InitWeights(cfg, dtypes.Float32, seed)
	if err != nil {
		tb.Fatal(err)
	}
	store := model.NewStore()
	if err := m.ToStore(store, ModelScope); err != nil {
		tb.Fatal(err)
	}
	tr, err := New(testBackend(tb), store, LMLoss(cfg, ModelScope, dt), c)
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// TestLMLossDTypes: the LM loss of a fresh model is ≈ ln(vocab) in float32
// and bfloat16 compute, and a bfloat16 step updates float32 masters.
func TestLMLossDTypes(t *testing.T) {
	cfg := tinyLlama()
	seqs := toySequences(4, 9, 2)
	batch := rowsTensor(seqs)
	losses := map[dtypes.DType]float64{}
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		tr := newLMTrainer(t, cfg, 3, dt, Config{Schedule: Schedule{PeakLR: 1e-2, TotalSteps: 3}, AdamW: DefaultAdamW()})
		res, err := tr.TrainStep([]*tensors.Tensor{batch})
		if err != nil {
			t.Fatal(err)
		}
		losses[dt] = res.Loss
		for _, p := range tr.Params() {
			if p.DType() != dtypes.Float32 {
				t.Errorf("%s master is %s", p.Path(), p.DType())
			}
		}
	}
	if math.Abs(losses[dtypes.Float32]-math.Log(64)) > 0.1 {
		t.Errorf("initial loss %g, want ≈ ln 64 = %g", losses[dtypes.Float32], math.Log(64))
	}
	if math.Abs(losses[dtypes.Float32]-losses[dtypes.BFloat16]) > bf16LossTol {
		t.Errorf("float32 loss %g vs bfloat16 %g", losses[dtypes.Float32], losses[dtypes.BFloat16])
	}
}

// BenchmarkTrainStep: one AdamW update of a 2-layer hidden-32 Llama on a
// [8, 33] batch (reports tokens/s).
func BenchmarkTrainStep(b *testing.B) {
	cfg := tinyLlama()
	cfg.MaxPositions = 64
	tr := newLMTrainer(b, cfg, 1, dtypes.Float32, Config{Schedule: Schedule{PeakLR: 1e-3, TotalSteps: 1 << 30}, AdamW: DefaultAdamW(), ClipNorm: 1})
	seqs := toySequences(8, 33, 1)
	for i := range seqs {
		for j := range seqs[i] {
			seqs[i][j] = (seqs[i][j]*7 + int32(j)) % int32(cfg.VocabSize)
		}
	}
	batch := []*tensors.Tensor{rowsTensor(seqs)}
	if _, err := tr.TrainStep(batch); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.TrainStep(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*8*33)/b.Elapsed().Seconds(), "tokens/s")
}
