// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"unsafe"

	"github.com/gomlx/compute/internal/gobackend"
)

// gominitron patch (issue 15): transposes without the per-element TransposeIterator (~4-8 ns per
// element). Axes that stay adjacent are merged first; a transpose that keeps the last axis in
// place becomes contiguous row copies, and one that swaps the last two (merged) axes, with any
// leading axes in place, a tiled 2D transpose per batch. Anything else takes the generic path.

// transposeFast transposes operand into output if it can, given the transpose's merged axes
// (mergeTransposeAxes); it reports whether it did.
func transposeFast(operand, output *gobackend.Buffer, dims, perm []int) bool {
	size := operand.RawShape.DType.Size()
	n := operand.RawShape.Size()
	if n == 0 {
		return true
	}
	src, dst := unsafe.Pointer(unsafe.SliceData(operand.RawBytes)), unsafe.Pointer(unsafe.SliceData(output.RawBytes))
	switch size {
	case 1:
		return transposeMerged(unsafe.Slice((*uint8)(src), n), unsafe.Slice((*uint8)(dst), n), dims, perm)
	case 2:
		return transposeMerged(unsafe.Slice((*uint16)(src), n), unsafe.Slice((*uint16)(dst), n), dims, perm)
	case 4:
		return transposeMerged(unsafe.Slice((*uint32)(src), n), unsafe.Slice((*uint32)(dst), n), dims, perm)
	case 8:
		return transposeMerged(unsafe.Slice((*uint64)(src), n), unsafe.Slice((*uint64)(dst), n), dims, perm)
	}
	return false
}

// mergeTransposeAxes drops axes of dimension 1 and merges operand axes that are consecutive
// both in the operand and in the output. The result describes the same transpose.
func mergeTransposeAxes(dims, perm []int) (mergedDims, mergedPerm []int) {
	pos := make([]int, len(dims)) // operand axis → its index among the axes kept
	kept := 0
	for a, d := range dims {
		pos[a] = -1
		if d != 1 {
			pos[a] = kept
			kept++
		}
	}
	// Output order of the kept axes (by kept index), split into runs of consecutive axes.
	type run struct{ first, dim int }
	var runs []run
	last := -2
	for _, a := range perm {
		if pos[a] < 0 {
			continue
		}
		if pos[a] == last+1 {
			runs[len(runs)-1].dim *= dims[a]
		} else {
			runs = append(runs, run{pos[a], dims[a]})
		}
		last = pos[a]
	}
	// Merged operand axes are the runs sorted by their first kept axis.
	rank := len(runs)
	byOperand := make([]int, rank) // k-th merged operand axis → run index
	for i := range byOperand {
		byOperand[i] = i
	}
	for i := 1; i < rank; i++ {
		for j := i; j > 0 && runs[byOperand[j]].first < runs[byOperand[j-1]].first; j-- {
			byOperand[j], byOperand[j-1] = byOperand[j-1], byOperand[j]
		}
	}
	mergedDims = make([]int, rank)
	mergedPerm = make([]int, rank)
	for k, ri := range byOperand {
		mergedDims[k] = runs[ri].dim
		mergedPerm[ri] = k
	}
	return mergedDims, mergedPerm
}

// transposeMerged handles merged transposes of rank ≤ 1 (a copy), those keeping the last axis
// (row copies) and those swapping the last two axes after leading axes in place.
func transposeMerged[T any](src, dst []T, dims, perm []int) bool {
	rank := len(dims)
	if rank <= 1 {
		copy(dst, src)
		return true
	}
	if perm[rank-1] == rank-1 {
		copyRowsPermuted(src, dst, dims, perm)
		return true
	}
	for i := range rank - 2 {
		if perm[i] != i {
			return false
		}
	}
	if perm[rank-2] != rank-1 || perm[rank-1] != rank-2 {
		return false
	}
	rows, cols := dims[rank-2], dims[rank-1]
	batch := len(src) / (rows * cols)
	for b := range batch {
		transpose2D(src[b*rows*cols:(b+1)*rows*cols], dst[b*rows*cols:(b+1)*rows*cols], rows, cols)
	}
	return true
}

// transpose2D writes dst[c, r] = src[r, c] for src [rows, cols], in 16×16 tiles (1 KB of
// float32 each way: both stay in L1), each output row of a tile written sequentially.
//
// Whole tiles of 32-bit values go through the AVX-512 register transpose (transpose16x16x32)
// where the CPU has it (gominitron patch: the scalar tiles were 18% of a training step's CPU).
func transpose2D[T any](src, dst []T, rows, cols int) {
	const tile = 16
	_, _ = src[rows*cols-1], dst[rows*cols-1]
	var zero T
	simd := hasTranspose16x16x32 && unsafe.Sizeof(zero) == 4
	for r0 := 0; r0 < rows; r0 += tile {
		r1 := min(r0+tile, rows)
		for c0 := 0; c0 < cols; c0 += tile {
			c1 := min(c0+tile, cols)
			if simd && r1-r0 == tile && c1-c0 == tile {
				transpose16x16x32(unsafe.Pointer(&src[r0*cols+c0]), cols*4, unsafe.Pointer(&dst[c0*rows+r0]), rows*4)
				continue
			}
			for c := c0; c < c1; c++ {
				out := dst[c*rows+r0 : c*rows+r1]
				si := r0*cols + c
				for i := range out {
					out[i] = src[si]
					si += cols
				}
			}
		}
	}
}

// copyRowsPermuted transposes when the last axis stays last: the output is a sequence of
// contiguous rows of the operand, visited with an odometer over the other output axes.
func copyRowsPermuted[T any](src, dst []T, dims, perm []int) {
	rank := len(dims)
	rowLen := dims[rank-1]
	strides := make([]int, rank) // operand strides
	strides[rank-1] = 1
	for a := rank - 2; a >= 0; a-- {
		strides[a] = strides[a+1] * dims[a+1]
	}
	outer := rank - 1
	outDims := make([]int, outer)
	outStrides := make([]int, outer) // operand stride of each output axis
	for i := range outer {
		outDims[i] = dims[perm[i]]
		outStrides[i] = strides[perm[i]]
	}
	idx := make([]int, outer)
	srcOff := 0
	for dstOff := 0; dstOff < len(dst); dstOff += rowLen {
		copy(dst[dstOff:dstOff+rowLen], src[srcOff:srcOff+rowLen])
		for i := outer - 1; i >= 0; i-- {
			idx[i]++
			srcOff += outStrides[i]
			if idx[i] < outDims[i] {
				break
			}
			srcOff -= outStrides[i] * outDims[i]
			idx[i] = 0
		}
	}
}
