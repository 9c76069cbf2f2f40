package importance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

// skipModes are the three ways ablations remove layers.
var skipModes = []struct {
	name string
	mode SkipMode
}{{"reuse", SkipAuto}, {"masked", SkipMasked}, {"static", SkipStatic}}

// checkSkipModesAgree: the drop-one and block LM losses are the same whether
// the full model's layer inputs are reused (SkipAuto), the layers are
// removed by a graph-input LayerMask (SkipMasked) or by recompiling
// (SkipStatic), and removing any layer changes the loss.
func checkSkipModesAgree(t *testing.T, name string, cfg *llm.Config, weights map[string]*tensors.Tensor, calib *Calibration, opts Options) {
	t.Helper()
	backend := testBackend(t)
	var ref *Scores
	for _, m := range skipModes {
		opts.Skip = m.mode
		s, err := Estimate(backend, cfg, weights, calib, opts)
		if err != nil {
			t.Fatalf("%s, %s: %v", name, m.name, err)
		}
		if ref == nil {
			ref = s
			for l, v := range s.DropOneLMLoss {
				if v == s.LMLoss {
					t.Errorf("%s: removing layer %d did not change the loss", name, l)
				}
			}
			continue
		}
		checkSame(t, name+" drop_one "+m.name+" vs reuse", s.DropOneLMLoss, ref.DropOneLMLoss)
		checkSame(t, name+" block "+m.name+" vs reuse", s.BlockLMLoss, ref.BlockLMLoss)
	}
}

// TestSkipModesAgreeOnFixtures: the fixture models, with and without padding.
func TestSkipModesAgreeOnFixtures(t *testing.T) {
	for _, name := range []string{"dev-llama3-headdim-tied-bf16", "dev-qwen2-bias"} {
		m := loadTestModel(t, name)
		calib := &Calibration{IDs: m.ids, Lengths: []int{32, 17, 32, 5}}
		checkSkipModesAgree(t, name, m.cfg, m.weights, calib, Options{BatchSize: 2, DropOne: true, BlockSize: 2})
	}
}

// TestSkipModesAgreeOnRandomModel: a random 5-layer GQA model with
// o_proj and down_proj biases (which a zero FFN/head mask would not remove,
// but LayerMask and the reuse path do), three batches, the last padded.
func TestSkipModesAgreeOnRandomModel(t *testing.T) {
	cfg := &llm.Config{ModelType: "llama", VocabSize: 97, Hidden: 32, FFN: 48, NumLayers: 5,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, RMSNormEps: 1e-5, HiddenAct: "silu",
		RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"}}
	m, err := llm.InitWeights(cfg, dtypes.Float32, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for l := range cfg.NumLayers {
		for _, bias := range []string{"self_attn.o_proj.bias", "mlp.down_proj.bias"} {
			v := make([]float32, cfg.Hidden)
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 0.1)
			}
			m.Weights[fmt.Sprintf("model.layers.%d.%s", l, bias)] = tensors.FromValue(v)
		}
	}
	calib := randomCalibration(cfg, 5, 16, 9)
	calib.Lengths = []int{16, 16, 16, 16, 9}
	checkSkipModesAgree(t, "random", cfg, m.Weights, calib, Options{BatchSize: 2, DropOne: true, BlockSize: 3})
}

// bf16Tolerance bounds the relative error of scores computed in bfloat16
// (8 bits of mantissa) against the float32 reference.
const bf16Tolerance = 3e-2

// TestBFloat16Compute: the pass in bfloat16 (weights and activations; the
// reductions in float32) stays close to the float32 reference.
func TestBFloat16Compute(t *testing.T) {
	backend := testBackend(t)
	m := loadTestModel(t, "dev-llama3-headdim-tied-bf16")
	s, err := Estimate(backend, m.cfg, m.weights, &Calibration{IDs: m.ids}, Options{BatchSize: 4, DType: dtypes.BFloat16, DropOne: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, axis := range []struct {
		name     string
		got, ref []float64
	}{
		{"ffn", flatten(s.FFN), flatten(m.ref.FFN)},
		{"heads", flatten(s.Heads), flatten(m.ref.Heads)},
		{"hidden", s.Hidden, m.ref.Hidden},
		{"bi", s.BI, m.ref.BI},
		{"drop_one_lm_loss", s.DropOneLMLoss, m.ref.DropOneLMLoss},
	} {
		var maxRef, maxErr float64
		for i := range axis.ref {
			maxRef = math.Max(maxRef, math.Abs(axis.ref[i]))
			maxErr = math.Max(maxErr, math.Abs(axis.got[i]-axis.ref[i]))
		}
		if maxErr > bf16Tolerance*maxRef {
			t.Errorf("%s: bf16 max abs error %.3g > %.0e × %.3g", axis.name, maxErr, bf16Tolerance, maxRef)
		}
		t.Logf("%-16s bf16 max abs error %.2e × max|ref|", axis.name, maxErr/maxRef)
	}
}
