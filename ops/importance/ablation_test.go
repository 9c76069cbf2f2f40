package importance

import (
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
		opts := Options{BatchSize: 2, DropOne: true, BlockSize: 2}
		masked, err := Estimate(backend, m.cfg, m.weights, calib, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.StaticSkip = true
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
