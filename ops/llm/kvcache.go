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
	// has no DynamicUpdateSlice) store scatters the slice into the slot: a
	// ScatterMin of −Inf then a ScatterMax of the update, which replaces the
	// slot exactly whatever it held, O(batchSize·numKVHeads·headDim) per
	// token (a one-hot Where over the broadcast cache was O(cacheLen), ~20%
	// of the Go backend's decode time; docs/performance.md).
	inPlace bool
}

// newKVSlot prepares the cache write of a decode step at slot (scalar int32);
// keys/values are set per layer.
func newKVSlot(g *Graph, slot *Node) *kvCache {
	return &kvCache{slot: slot, inPlace: kvWriteInPlace(g.Backend().Capabilities())}
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
	g := cache.Graph()
	batchSize, heads, headDim := cache.Shape().Dim(0), cache.Shape().Dim(1), cache.Shape().Dim(3)
	at := shapesOf(dtypes.Int32, batchSize, heads, 1)
	indices := Concatenate([]*Node{Iota(g, at, 0), Iota(g, at, 1), // [batchSize, heads, 3]: (row, head, slot)
		BroadcastToShape(Reshape(ConvertDType(c.slot, dtypes.Int32), 1, 1, 1), at)}, -1)
	slice := Reshape(update, batchSize, heads, headDim)
	emptied := ScatterMin(cache, indices, BroadcastToShape(Infinity(g, cache.DType(), -1), slice.Shape()), true, true)
	return ScatterMax(emptied, indices, slice, true, true)
}
