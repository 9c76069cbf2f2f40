package prune

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// run is a contiguous range [start, start+n) of kept indices.
type run struct{ start, n int }

// runs compresses ascending indices into contiguous runs; nil means "all of
// size" (one run).
func runs(idx []int, size int) []run {
	if idx == nil {
		return []run{{0, size}}
	}
	var rs []run
	for _, i := range idx {
		if len(rs) > 0 && rs[len(rs)-1].start+rs[len(rs)-1].n == i {
			rs[len(rs)-1].n++
			continue
		}
		rs = append(rs, run{i, 1})
	}
	return rs
}

// sliceTensor returns a new tensor holding the given rows (axis 0) and, for
// rank-2 tensors, columns (axis 1) of t; nil rows/cols keep the whole axis.
// Indices must be ascending and in range. Works on raw bytes, so any dtype
// (float32, bfloat16, …) is copied bit-exactly; t is never modified.
func sliceTensor(t *tensors.Tensor, rows, cols []int) (*tensors.Tensor, error) {
	var out *tensors.Tensor
	var err error
	srcErr := t.ConstBytes(func(src []byte) {
		out, err = sliceBytes(src, t.Shape(), rows, cols, nil)
	})
	if srcErr != nil {
		return nil, srcErr
	}
	return out, err
}

// releaseEvery is how many source bytes sliceBytes reads between calls to
// its release function (a variable so tests can use small tensors).
var releaseEvery = 16 << 20

// sliceBytes is sliceTensor of the tensor of the given shape whose raw
// little-endian data is src (a tensor's bytes, or a checkpoint's mapped
// file). Rows are copied in ascending order; when release is not nil it is
// called with a source offset every releaseEvery bytes and at the end, all
// of src before that offset having been read (a mapped file's pages can
// then leave memory, so only the output is held).
func sliceBytes(src []byte, shape shapes.Shape, rows, cols []int, release func(readUpTo int64)) (*tensors.Tensor, error) {
	if shape.Rank() != 1 && shape.Rank() != 2 {
		return nil, fmt.Errorf("tensor of shape %s: only rank 1 and 2 can be sliced", shape)
	}
	if shape.Rank() == 1 && cols != nil {
		return nil, fmt.Errorf("tensor of shape %s has no columns to slice", shape)
	}
	dims := shape.Dimensions
	numRows, numCols := dims[0], 1
	if shape.Rank() == 2 {
		numCols = dims[1]
	}
	for _, check := range []struct {
		idx  []int
		size int
		axis string
	}{{rows, numRows, "row"}, {cols, numCols, "column"}} {
		for i, x := range check.idx {
			if x < 0 || x >= check.size || (i > 0 && x <= check.idx[i-1]) {
				return nil, fmt.Errorf("tensor of shape %s: %s index %d out of range or not ascending", shape, check.axis, x)
			}
		}
	}
	elem := shape.DType.Size()
	if len(src) != numRows*numCols*elem {
		return nil, fmt.Errorf("tensor of shape %s: %d data bytes, want %d", shape, len(src), numRows*numCols*elem)
	}
	newRows, newCols := numRows, numCols
	if rows != nil {
		newRows = len(rows)
	}
	if cols != nil {
		newCols = len(cols)
	}
	newDims := []int{newRows}
	if shape.Rank() == 2 {
		newDims = append(newDims, newCols)
	}
	out := tensors.FromShape(shapes.Make(shape.DType, newDims...))
	colRuns := runs(cols, numCols)
	rowIdx := rows
	if rowIdx == nil {
		rowIdx = iota(numRows)
	}
	err := out.MutableBytes(func(dst []byte) {
		srcRow := numCols * elem
		d := 0
		var released int64
		for _, r := range rowIdx {
			base := r * srcRow
			if release != nil && int64(base)-released >= int64(releaseEvery) {
				release(int64(base))
				released = int64(base)
			}
			for _, cr := range colRuns {
				d += copy(dst[d:], src[base+cr.start*elem:base+(cr.start+cr.n)*elem])
			}
		}
		if release != nil {
			release(int64(len(src)))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// headRows expands kept head indices into the rows (or columns) of their
// headDim-wide blocks.
func headRows(heads []int, headDim int) []int {
	idx := make([]int, 0, len(heads)*headDim)
	for _, h := range heads {
		for j := range headDim {
			idx = append(idx, h*headDim+j)
		}
	}
	return idx
}
