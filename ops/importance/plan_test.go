package importance

import (
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
)

// TestDryRun: the plan counts batches, passes and tokens of the run it
// describes, its time is the measured first batch × batches, and it leaves
// the calibration set and the model usable for the real run.
func TestDryRun(t *testing.T) {
	cfg := &llm.Config{ModelType: "llama", VocabSize: 64, Hidden: 32, FFN: 64, NumLayers: 3, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 8, RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"}}
	m, err := llm.InitWeights(cfg, dtypes.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	calib := randomCalibration(cfg, 5, 8, 2)
	calib.Lengths = []int{8, 8, 5, 8, 3}
	be := testBackend(t)
	opts := Options{BatchSize: 2, DropOne: true, BlockSize: 2, Parts: 2}
	p, err := DryRun(be, m, calib, opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Batches != 3 || p.BatchSize != 2 || p.Samples != 5 || p.SeqLen != 8 || p.Tokens != 32 {
		t.Errorf("plan counts %+v, want 3 batches of 2, 5 samples × 8, 32 tokens", p)
	}
	want := []PlanStage{{"activations", 1}, {"drop-one", 3}, {"blocks", 2}}
	if len(p.Stages) != len(want) {
		t.Fatalf("stages %v, want %v", p.Stages, want)
	}
	for i := range want {
		if p.Stages[i] != want[i] {
			t.Errorf("stage %d = %v, want %v", i, p.Stages[i], want[i])
		}
	}
	if p.FirstBatchSeconds <= 0 || p.EstimatedSeconds != p.FirstBatchSeconds*3 {
		t.Errorf("times: first batch %v s, estimate %v s (want 3×)", p.FirstBatchSeconds, p.EstimatedSeconds)
	}
	if p.WeightBytes != cfg.WeightBytes(dtypes.Float32) || p.ActivationBytes <= 0 {
		t.Errorf("memory: weights %d (want %d), activations %d", p.WeightBytes, cfg.WeightBytes(dtypes.Float32), p.ActivationBytes)
	}
	if _, err := EstimateModel(be, m, calib, opts); err != nil {
		t.Errorf("the real run after the dry run: %v", err)
	}
}
