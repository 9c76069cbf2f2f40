package llm

import (
	"slices"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestKVWriteInPlaceByCapability: the cache write path follows the backend's
// DynamicUpdateSlice capability, whatever the backend's name.
func TestKVWriteInPlaceByCapability(t *testing.T) {
	cases := []struct {
		name string
		ops  map[compute.OpType]bool
		want bool
	}{
		{"has DynamicUpdateSlice", map[compute.OpType]bool{compute.OpTypeDynamicUpdateSlice: true, compute.OpTypeWhere: true}, true},
		{"only Where", map[compute.OpType]bool{compute.OpTypeWhere: true}, false},
		{"listed as unsupported", map[compute.OpType]bool{compute.OpTypeDynamicUpdateSlice: false}, false},
	}
	for _, c := range cases {
		if got := kvWriteInPlace(compute.Capabilities{Operations: c.ops}); got != c.want {
			t.Errorf("%s: kvWriteInPlace = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestKVCacheStoreWritesOneSlot: storing a step's keys replaces exactly the
// slot along the cache axis, for every row and head, on the test backend
// (the Where path on the Go backend; DynamicUpdateSlice where the backend has it).
func TestKVCacheStoreWritesOneSlot(t *testing.T) {
	const batchSize, heads, cacheLen, headDim = 2, 3, 5, 4
	cache := make([]float32, batchSize*heads*cacheLen*headDim)
	for i := range cache {
		cache[i] = float32(i + 1)
	}
	update := make([]float32, batchSize*heads*headDim)
	for i := range update {
		update[i] = -float32(i + 1)
	}
	for _, slot := range []int32{0, 2, cacheLen - 1} {
		exec, err := NewExec(testBackend(t), func(g *Graph, inputs []*Node) *Node {
			kv := newKVSlot(g, inputs[2], cacheLen)
			return kv.store(inputs[0], inputs[1])
		})
		if err != nil {
			t.Fatal(err)
		}
		res, err := exec.Exec(tensors.FromFlatDataAndDimensions(slices.Clone(cache), batchSize, heads, cacheLen, headDim),
			tensors.FromFlatDataAndDimensions(slices.Clone(update), batchSize, heads, 1, headDim), slot)
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](res[0])
		// Expected: cache with [b, h, slot, :] = update[b, h, 0, :], index by index.
		for b := range batchSize {
			for h := range heads {
				for s := range cacheLen {
					for d := range headDim {
						i := ((b*heads+h)*cacheLen+s)*headDim + d
						want := cache[i]
						if int32(s) == slot {
							want = update[(b*heads+h)*headDim+d]
						}
						if got[i] != want {
							t.Fatalf("slot %d: [%d,%d,%d,%d] = %g, want %g", slot, b, h, s, d, got[i], want)
						}
					}
				}
			}
		}
		exec.Finalize()
	}
}
