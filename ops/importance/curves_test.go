package importance

import (
	"math"
	"reflect"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

func TestScaledBlockSizes(t *testing.T) {
	for _, c := range []struct {
		layers int
		want   []int
	}{
		{32, []int{1, 2, 8, 16, 31}}, // the blog's Llama-3.1-8B, plus all-but-one
		{4, []int{1, 2, 3}},          // the demo teacher: 8/32 and 16/32 of 4 are 1 and 2
		{8, []int{1, 2, 4, 7}},
		{3, []int{1, 2}},
		{2, []int{1}},
		{1, nil},
	} {
		if got := ScaledBlockSizes(c.layers); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ScaledBlockSizes(%d) = %v, want %v", c.layers, got, c.want)
		}
	}
}

// curveTolerance bounds |curve − hand| in nats: both are float32 forwards
// of the same weights, summed in a different order.
const curveTolerance = 1e-4

// TestLayerCurvesMatchLayerMask: every point of the curves equals the LM
// loss of the forward pass with the same layers zeroed by hand through
// llm.ForwardOptions.LayerMask (an independent removal path: the scorer
// skips layers statically or through FFN/head masks).
func TestLayerCurvesMatchLayerMask(t *testing.T) {
	backend := testBackend(t)
	tm := loadTestModel(t, "dev-llama3-headdim-tied-bf16") // 3 layers
	m := &llm.Model{Config: tm.cfg, Weights: tm.weights, Source: tm.name}
	n := tm.cfg.NumLayers
	curves, err := ComputeLayerCurves(backend, m, &Calibration{IDs: tm.ids}, []int{1, 2}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	hand := func(removed []int) float64 {
		keep := make([]float32, n)
		for l := range keep {
			keep[l] = 1
		}
		for _, l := range removed {
			keep[l] = 0
		}
		out, err := MustNewExec(backend, func(g *Graph) *Node {
			params := func(name string) *Node {
				w, ok := tm.weights[name]
				if !ok {
					return nil
				}
				return Const(g, w)
			}
			ids := Const(g, tm.ids)
			o := llm.Forward(tm.cfg, params, ids, &llm.ForwardOptions{LayerMask: Const(g, keep)})
			return llm.NextTokenLoss(o.Logits, ids, nil)
		}).Exec()
		if err != nil {
			t.Fatal(err)
		}
		return float64(tensors.ToScalar[float32](out[0]))
	}
	if got, want := curves.FullLoss, hand(nil); math.Abs(got-want) > curveTolerance {
		t.Errorf("full loss %.6f, by hand %.6f", got, want)
	}
	if len(curves.Curves) != 2 {
		t.Fatalf("%d curves, want 2", len(curves.Curves))
	}
	for _, c := range curves.Curves {
		if len(c.Loss) != n-c.BlockSize+1 {
			t.Fatalf("block %d: %d points, want %d", c.BlockSize, len(c.Loss), n-c.BlockSize+1)
		}
		for s, got := range c.Loss {
			var removed []int
			for l := s; l < s+c.BlockSize; l++ {
				removed = append(removed, l)
			}
			if want := hand(removed); math.Abs(got-want) > curveTolerance {
				t.Errorf("block %d at %d: %.6f, by hand %.6f", c.BlockSize, s, got, want)
			}
			if got == curves.FullLoss {
				t.Errorf("removing layers %v did not change the loss", removed)
			}
		}
	}
	if _, err := ComputeLayerCurves(backend, m, &Calibration{IDs: tm.ids}, []int{n + 1}, 2, nil); err == nil {
		t.Error("block larger than the model not reported")
	}
}
