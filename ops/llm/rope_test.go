package llm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestApplyRopeIsRotateHalf: applyRope (two full-head products with the repeated cos and the
// sign-folded sin) equals HF's rotate_half form, x1·cos − x2·sin and x2·cos + x1·sin on the
// half heads, bit for bit, with the half tables read back from the same ropeTables (so both
// sides use the backend's own cos and sin); for float32 and bfloat16 compute, plain and
// Llama-3-scaled frequencies.
func TestApplyRopeIsRotateHalf(t *testing.T) {
	const batchSize, seqLen, heads, headDim = 2, 7, 3, 8
	rng := rand.New(rand.NewPCG(21, 22))
	x := make([]float32, batchSize*seqLen*heads*headDim)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	positions := make([]int32, batchSize*seqLen)
	for i := range positions {
		positions[i] = int32(i%seqLen + 3*(i/seqLen))
	}
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		for _, rope := range []RopeScaling{{}, {Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 4}} {
			cfg := &Config{HeadDim: headDim, RopeTheta: 10000, Rope: rope}
			d := &decoder{cfg: cfg, dtype: dtype}
			exec, err := NewExec(testBackend(t), func(g *Graph, inputs []*Node) []*Node {
				xs, pos := d.cast(inputs[0]), inputs[1]
				rt := d.ropeTables(pos)
				half := headDim / 2
				cos := SliceAxis(rt.cos, -1, AxisRange(0, half))
				sin := SliceAxis(rt.signedSin, -1, AxisRange(half, headDim))
				x1, x2 := SliceAxis(xs, -1, AxisRange(0, half)), SliceAxis(xs, -1, AxisRange(half, headDim))
				want := Concatenate([]*Node{Sub(Mul(x1, cos), Mul(x2, sin)), Add(Mul(x2, cos), Mul(x1, sin))}, -1)
				return []*Node{ConvertDType(applyRope(xs, rt), dtypes.Float32), ConvertDType(want, dtypes.Float32),
					ConvertDType(rt.cos, dtypes.Float32), ConvertDType(rt.signedSin, dtypes.Float32)}
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Exec(tensors.FromFlatDataAndDimensions(x, batchSize, seqLen, heads, headDim),
				tensors.FromFlatDataAndDimensions(positions, batchSize, seqLen))
			if err != nil {
				t.Fatal(err)
			}
			got, want := tensors.MustCopyFlatData[float32](res[0]), tensors.MustCopyFlatData[float32](res[1])
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s rope %q: element %d = %g, rotate_half form %g", dtype, rope.Type, i, got[i], want[i])
				}
			}
			// The tables themselves: [cos, cos] and [-sin, sin] of position · inverse frequency.
			tol := 1e-5
			if dtype == dtypes.BFloat16 {
				tol = 1e-2
			}
			cosT, sinT := tensors.MustCopyFlatData[float32](res[2]), tensors.MustCopyFlatData[float32](res[3])
			inv := RopeInvFreq(cfg)
			for p, pos := range positions {
				for j := range headDim {
					angle := float64(pos) * inv[j%(headDim/2)]
					wantSin := math.Sin(angle)
					if j < headDim/2 {
						wantSin = -wantSin
					}
					if c, sn := float64(cosT[p*headDim+j]), float64(sinT[p*headDim+j]); math.Abs(c-math.Cos(angle)) > tol || math.Abs(sn-wantSin) > tol {
						t.Fatalf("%s rope %q: position %d column %d: tables cos %g sin %g, want %g and %g", dtype, rope.Type, pos, j, c, sn, math.Cos(angle), wantSin)
					}
				}
			}
			exec.Finalize()
		}
	}
}
