package importance

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

// TestNonFiniteActivationsNameTheFirstLayer: a NaN weight (passed directly,
// as llm.LoadModel would refuse it) makes the pass fail naming the first
// layer whose activations went non-finite, never NaN scores.
func TestNonFiniteActivationsNameTheFirstLayer(t *testing.T) {
	cases := []struct {
		tensor string
		want   string
	}{
		// layer 1's queries: its head outputs are the first NaN activations.
		{"model.layers.1.self_attn.q_proj.weight", "layer 1 (the first non-finite one): attention head score 0 is NaN"},
		// layer 0's down_proj: heads and neurons of layer 0 are finite, its output (block importance) is not.
		{"model.layers.0.mlp.down_proj.weight", "layer 0 (the first non-finite one): block importance score 0 is NaN"},
	}
	backend := testBackend(t)
	for _, tc := range cases {
		t.Run(tc.tensor, func(t *testing.T) {
			m := loadTestModel(t, "dev-llama-gqa")
			w, err := m.weights[tc.tensor].Clone()
			if err != nil {
				t.Fatal(err)
			}
			w.MutableFlatData(func(flat any) {
				for i := range flat.([]float32) {
					flat.([]float32)[i] = float32(math.NaN())
				}
			})
			weights := map[string]*tensors.Tensor{}
			for k, v := range m.weights {
				weights[k] = v
			}
			weights[tc.tensor] = w
			_, err = Estimate(backend, m.cfg, weights, &Calibration{IDs: m.ids}, Options{BatchSize: 4, DropOne: true})
			if !errors.Is(err, llm.ErrNonFinite) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheckFiniteLosses(t *testing.T) {
	err := checkFiniteLosses("drop-one lm_loss without layer", []float64{1, 2, math.Inf(1)})
	if !errors.Is(err, llm.ErrNonFinite) || !strings.Contains(err.Error(), "drop-one lm_loss without layer 2 is +Inf") {
		t.Errorf("err = %v", err)
	}
	if err := checkFiniteLosses("x", []float64{0, 1e300}); err != nil {
		t.Errorf("finite losses refused: %v", err)
	}
}
