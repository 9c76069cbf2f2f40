package importance

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestMaskedSkipEqualsStaticSkip: removing layers through the keep-vector
// graph input (zero FFN and head masks, one compilation) gives the same LM
// losses as Forward's static SkipLayers, with and without padding.
func TestMaskedSkipEqualsStaticSkip(t *testing.T) {
	backend := testBackend(t)
	for _, name := range []string{"dev-llama3-headdim-tied-bf16", "dev-qwen2-bias"} {
		m := loadTestModel(t, name)
		calib := &Calibration{IDs: m.ids, Lengths: []int{32, 17, 32, 5}}
		opts := Options{BatchSize: 2, DropOne: true, BlockSize: 2, Skip: SkipMasked}
		masked, err := Estimate(backend, m.cfg, m.weights, calib, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Skip = SkipStatic
		static, err := Estimate(backend, m.cfg, m.weights, calib, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, name+" drop_one", masked.DropOneLMLoss, static.DropOneLMLoss)
		checkSame(t, name+" block", masked.BlockLMLoss, static.BlockLMLoss)
		for l, v := range masked.DropOneLMLoss {
			if v == masked.LMLoss {
				t.Errorf("%s: removing layer %d did not change the loss", name, l)
			}
		}
	}
}

// TestBiasAfterMaskForcesStaticSkip: with an o_proj or down_proj bias a zero
// mask does not remove the layer, so the scorer must compile per pattern.
func TestBiasAfterMaskForcesStaticSkip(t *testing.T) {
	m := loadTestModel(t, "dev-llama-gqa")
	net, err := newLLMNetwork(m.cfg, m.weights, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if !net.canMaskLayers() {
		t.Fatal("model without output biases cannot mask layers")
	}
	for _, bias := range []string{"model.layers.1.self_attn.o_proj.bias", "model.layers.0.mlp.down_proj.bias"} {
		w := map[string]*tensors.Tensor{bias: tensors.FromValue(make([]float32, m.cfg.Hidden))}
		for k, v := range m.weights {
			w[k] = v
		}
		net, err := newLLMNetwork(m.cfg, w, dtypes.Float32)
		if err != nil {
			t.Fatal(err)
		}
		if net.canMaskLayers() {
			t.Errorf("with %s the layers are masked instead of skipped", bias)
		}
	}
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
