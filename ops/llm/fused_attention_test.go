package llm

import (
	"math"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestFusedAttentionMatchesDecomposed: with FusedAttention, a backend that
// has the fused op (XLA on CUDA: cuDNN flash attention, bf16) gives the same
// logits as the decomposed attention, with and without a padding mask, and
// the transformers reference within bf16Tolerance (store_test.go). scripts/gpu_check.sh runs
// it on the GPU; backends without the fused op skip it (Forward falls back to
// the decomposed path there, which the other tests cover).
func TestFusedAttentionMatchesDecomposed(t *testing.T) {
	backend := testBackend(t)
	if !backend.Capabilities().Operations[compute.OpTypeFusedScaledDotProductAttention] {
		t.Skipf("backend %s has no fused attention", backend.Name())
	}
	for _, name := range fixtureNames {
		for _, withMask := range []bool{false, true} {
			f := loadFixture(t, name)
			ids := f.ref["input_ids"]
			run := func(fused bool) *tensors.Tensor {
				return runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
					o := &ForwardOptions{DType: dtypes.BFloat16, FusedAttention: fused}
					if withMask {
						o.AttentionMask = GreaterOrEqual(Const(g, ids), ScalarZero(g, dtypes.Int32))
					}
					return o
				}, nil)[0]
			}
			fused, decomposed := run(true), run(false)
			for _, c := range []struct {
				what string
				ref  *tensors.Tensor
			}{{"fused vs decomposed", decomposed}, {"fused vs transformers (float32)", f.ref["logits"]}} {
				a, b := tensors.MustCopyFlatData[float32](fused), tensors.MustCopyFlatData[float32](c.ref)
				var maxDiff, maxRef float64
				for i := range b {
					maxDiff = math.Max(maxDiff, math.Abs(float64(a[i]-b[i])))
					maxRef = math.Max(maxRef, math.Abs(float64(b[i])))
				}
				if !(maxDiff <= bf16Tolerance*maxRef) {
					t.Errorf("%s, mask %v: %s: max abs difference %.3g > %.0e × %.3g", name, withMask, c.what, maxDiff, bf16Tolerance, maxRef)
				}
			}
		}
	}
}
