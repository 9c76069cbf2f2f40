package gobackend

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
)

// TestBroadcastCopy (gominitron patch): the block broadcast against the per-element iterator
// (the reference: each output element takes the source element the iterator yields for it) on
// random shapes of rank 1–5 with random broadcast axes, including size-1 target axes and
// all-broadcast or no-broadcast shapes.
func TestBroadcastCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 2000 {
		rank := 1 + rng.IntN(5)
		tgtDims, srcDims := make([]int, rank), make([]int, rank)
		for a := range rank {
			tgtDims[a] = 1 + rng.IntN(4)
			srcDims[a] = tgtDims[a]
			if rng.IntN(2) == 0 {
				srcDims[a] = 1
			}
		}
		srcShape, tgtShape := shapes.Make(dtypes.Float32, srcDims...), shapes.Make(dtypes.Float32, tgtDims...)
		src := make([]float32, srcShape.Size())
		for i := range src {
			src[i] = float32(i + 1)
		}
		bi := NewBroadcastIterator(srcShape, tgtShape)
		want := make([]float32, tgtShape.Size())
		for srcIdx, tgtIdx := range bi.IterFlatIndices() {
			want[tgtIdx] = src[srcIdx]
		}
		got := make([]float32, tgtShape.Size()+1)
		got[len(got)-1] = -7 // past the end: must stay
		BroadcastCopy(bi, src, got[:tgtShape.Size()])
		if !slices.Equal(got[:tgtShape.Size()], want) || got[len(got)-1] != -7 {
			t.Fatalf("trial %d: broadcast %v -> %v:\n got %v\nwant %v", trial, srcDims, tgtDims, got, want)
		}
	}
}
