package llm

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// kvCache is one layer's attention state during a decode step, and how the
// step's new keys/values are stored in it.
type kvCache struct {
	keys, values *Node // [batchSize, numKVHeads, cacheLen, headDim] before this step

	slot *Node // scalar int32: the cache slot of this step's token (the same for every row)
	// inPlace: the backend has DynamicUpdateSlice, so store writes only the
	// slot's [batchSize, numKVHeads, 1, headDim] slice (XLA; with the cache
	// buffer donated, an in-place update). Otherwise (the Go backend, which
	// has no DynamicUpdateSlice) store selects with a one-hot slot mask over
	// the whole cache — O(cacheLen) per token, same values.
	inPlace bool
	write   *Node // [1, 1, cacheLen, 1] bool one-hot of slot (only without inPlace)
}

// newKVSlot prepares the cache write of a decode step at slot (scalar int32)
// for a cache of cacheLen positions; keys/values are set per layer.
func newKVSlot(g *Graph, slot *Node, cacheLen int) *kvCache {
	c := &kvCache{slot: slot, inPlace: kvWriteInPlace(g.Backend().Capabilities())}
	if !c.inPlace {
		t := Iota(g, shapesOf(dtypes.Int32, 1, 1, cacheLen, 1), 2)
		c.write = Equal(t, slot)
	}
	return c
}

// kvWriteInPlace reports whether a backend with these capabilities writes the
// KV cache with DynamicUpdateSlice (decided by capability, not backend name).
func kvWriteInPlace(caps compute.Capabilities) bool {
	return caps.Operations[compute.OpTypeDynamicUpdateSlice]
}

// store returns cache [batchSize, numKVHeads, cacheLen, headDim] with slot
// along axis 2 replaced by update [batchSize, numKVHeads, 1, headDim].
func (c *kvCache) store(cache, update *Node) *Node {
	if c.inPlace {
		zero := ScalarZero(cache.Graph(), c.slot.DType())
		return DynamicUpdateSlice(cache, update, []*Node{zero, zero, c.slot, zero})
	}
	shape := cache.Shape()
	return Where(BroadcastToShape(c.write, shape), BroadcastToShape(update, shape), cache)
}
