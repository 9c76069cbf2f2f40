package gobackend

// gominitron patch (issue 15): BroadcastInDim by blocks. The per-element iterator (one yield,
// and an axis walk, per output element) was ~19% of a decode step's CPU on the demo teacher
// (the Go backend's KV-cache write broadcasts each step's keys and values over the cache).

// BroadcastCopy writes into dst (the iterator's target shape, row-major) the broadcast of src
// (its source shape), by whole blocks: axes are merged where adjacent ones are both broadcast
// or both not, a kept innermost axis is one copy per row, a broadcast one a fill, and every
// broadcast outer axis writes its first block and then duplicates it.
func BroadcastCopy[T any](bi *BroadcastIterator, src, dst []T) {
	dims, isBroadcast := bi.mergedAxes()
	if len(dims) == 0 { // every axis has size 1
		dst[0] = src[0]
		return
	}
	// dstBlock[a], srcBlock[a]: elements of one step along axis a (the product of inner dims).
	dstBlock, srcBlock := make([]int, len(dims)), make([]int, len(dims))
	dstSize, srcSize := 1, 1
	for a := len(dims) - 1; a >= 0; a-- {
		dstBlock[a], srcBlock[a] = dstSize, srcSize
		dstSize *= dims[a]
		if !isBroadcast[a] {
			srcSize *= dims[a]
		}
	}
	broadcastBlock(dims, isBroadcast, dstBlock, srcBlock, 0, src, dst[:dstSize])
}

// mergedAxes returns the target dimensions with size-1 axes dropped and adjacent axes of the
// same kind (both broadcast, or both kept) merged, and whether each merged axis is broadcast.
func (bi *BroadcastIterator) mergedAxes() (dims []int, isBroadcast []bool) {
	for axis, dim := range bi.tgtDims {
		if dim == 1 {
			continue
		}
		b := bi.isBroadcast[axis]
		if n := len(dims); n > 0 && isBroadcast[n-1] == b {
			dims[n-1] *= dim
			continue
		}
		dims = append(dims, dim)
		isBroadcast = append(isBroadcast, b)
	}
	return dims, isBroadcast
}

// broadcastBlock fills dst (one block of axis a: dims[a:]) from src (the matching source block).
func broadcastBlock[T any](dims []int, isBroadcast []bool, dstBlock, srcBlock []int, a int, src, dst []T) {
	n := dims[a]
	if a == len(dims)-1 {
		if !isBroadcast[a] {
			copy(dst[:n], src[:n])
			return
		}
		dst[0] = src[0]
		for filled := 1; filled < n; filled *= 2 {
			copy(dst[filled:n], dst[:filled])
		}
		return
	}
	step := dstBlock[a]
	if isBroadcast[a] {
		broadcastBlock(dims, isBroadcast, dstBlock, srcBlock, a+1, src, dst[:step])
		for filled := step; filled < n*step; filled *= 2 {
			copy(dst[filled:n*step], dst[:filled])
		}
		return
	}
	for i := range n {
		broadcastBlock(dims, isBroadcast, dstBlock, srcBlock, a+1, src[i*srcBlock[a]:], dst[i*step:(i+1)*step])
	}
}
