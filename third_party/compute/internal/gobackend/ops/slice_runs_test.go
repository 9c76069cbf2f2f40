package ops

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestSliceRuns (gominitron patch): execSliceGeneric, whose unit-stride last axis copies whole
// runs, against a reference that computes every output element's operand index from its
// coordinates (start + i·stride per axis), on random shapes, starts, limits and strides.
func TestSliceRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 3000 {
		rank := 1 + rng.IntN(4)
		dims := make([]int, rank)
		p := &sliceNode{starts: make([]int, rank), limits: make([]int, rank), strides: make([]int, rank)}
		outDims := make([]int, rank)
		for a := range rank {
			dims[a] = 1 + rng.IntN(6)
			p.starts[a] = rng.IntN(dims[a])
			p.limits[a] = p.starts[a] + 1 + rng.IntN(dims[a]-p.starts[a])
			p.strides[a] = 1
			if rng.IntN(4) == 0 {
				p.strides[a] = 1 + rng.IntN(3)
			}
			outDims[a] = (p.limits[a] - p.starts[a] + p.strides[a] - 1) / p.strides[a]
		}
		if rng.IntN(3) == 0 { // whole axes, so runs merge across them
			for a := 1; a < rank; a++ {
				p.starts[a], p.limits[a], p.strides[a], outDims[a] = 0, dims[a], 1, dims[a]
			}
		}
		inShape, outShape := shapes.Make(dtypes.Float32, dims...), shapes.Make(dtypes.Float32, outDims...)
		in := make([]float32, inShape.Size())
		for i := range in {
			in[i] = float32(i)
		}
		got := make([]float32, outShape.Size())
		execSliceGeneric[float32](&gobackend.Buffer{RawShape: inShape, Flat: in}, &gobackend.Buffer{RawShape: outShape, Flat: got}, p)

		want := make([]float32, outShape.Size())
		inStrides, coords := inShape.Strides(), make([]int, rank)
		for o := range want {
			rem, idx := o, 0
			for a := rank - 1; a >= 0; a-- {
				coords[a] = rem % outDims[a]
				rem /= outDims[a]
				idx += (p.starts[a] + coords[a]*p.strides[a]) * inStrides[a]
			}
			want[o] = in[idx]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: slice %v starts %v strides %v -> %v:\n got %v\nwant %v", trial, dims, p.starts, p.strides, outDims, got, want)
		}
	}
}
