// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"github.com/gomlx/compute/internal/simdf32"
	"github.com/gomlx/compute/shapes"
)

// broadcastRows splits a broadcasting binary op into rows: maximal runs of trailing output axes
// over which each operand either steps through contiguous memory or stays on one element. It
// calls fn once per row with the flat offsets of the row's first element in lhs, rhs and the
// output, its length n, and whether each operand steps. It reports false (and calls nothing)
// when the shapes do not have the output's rank or the rows would be shorter than
// minBroadcastRow, where the per-element iterator is kept.
//
// gominitron patch (issue 15): the generic binary ops ran every broadcast (RMSNorm's scale,
// RoPE's tables, attention biases) through NewZippedBroadcastIterator, a few ns per element.
func broadcastRows(lhsShape, rhsShape, outputShape shapes.Shape, fn func(l, r, o, n int, lStep, rStep bool)) bool {
	const minBroadcastRow = 8
	rank := outputShape.Rank()
	if rank == 0 || lhsShape.Rank() != rank || rhsShape.Rank() != rank {
		return false
	}
	dims := outputShape.Dimensions
	var lStridesBuf, rStridesBuf, idxBuf [8]int
	lStrides, rStrides, idx := lStridesBuf[:0], rStridesBuf[:0], idxBuf[:0]
	if rank > len(lStridesBuf) {
		lStrides, rStrides, idx = make([]int, 0, rank), make([]int, 0, rank), make([]int, 0, rank)
	}
	lStrides, rStrides, idx = lStrides[:rank], rStrides[:rank], idx[:rank]
	lAcc, rAcc := 1, 1
	for a := rank - 1; a >= 0; a-- {
		switch lhsShape.Dimensions[a] {
		case dims[a]:
			lStrides[a] = lAcc
			lAcc *= dims[a]
		case 1:
			lStrides[a] = 0
		default:
			return false
		}
		switch rhsShape.Dimensions[a] {
		case dims[a]:
			rStrides[a] = rAcc
			rAcc *= dims[a]
		case 1:
			rStrides[a] = 0
		default:
			return false
		}
		if dims[a] == 1 {
			lStrides[a], rStrides[a] = 0, 0
		}
	}
	// The row: trailing axes (dimension 1 ones aside) with one stepping pattern.
	n, k := 1, rank
	var lStep, rStep bool
	for ; k > 0; k-- {
		a := k - 1
		if dims[a] == 1 {
			continue
		}
		lc, rc := lStrides[a] != 0, rStrides[a] != 0
		if n == 1 {
			lStep, rStep = lc, rc
		} else if lc != lStep || rc != rStep {
			break
		}
		n *= dims[a]
	}
	if n < minBroadcastRow {
		return false
	}
	total := outputShape.Size()
	l, r := 0, 0
	for o := 0; o < total; o += n {
		fn(l, r, o, n, lStep, rStep)
		for a := k - 1; a >= 0; a-- { // odometer over the outer axes
			idx[a]++
			l += lStrides[a]
			r += rStrides[a]
			if idx[a] < dims[a] {
				break
			}
			l -= lStrides[a] * dims[a]
			r -= rStrides[a] * dims[a]
			idx[a] = 0
		}
	}
	return true
}

// binaryFloat32 runs a float32 Add, Sub, Mul or Div with the vectorized loops of simdf32 (scalar
// rhs, equal shapes, or broadcasting by rows); it reports false, doing nothing, for other
// element types or broadcasts that broadcastRows leaves to the iterator.
func binaryFloat32[T any](op simdf32.BinaryOp, lhs, rhs, output []T, lhsShape, rhsShape, outputShape shapes.Shape) bool {
	o, ok := any(output).([]float32)
	if !ok {
		return false
	}
	l, r := any(lhs).([]float32), any(rhs).([]float32)
	switch {
	case len(r) == 1 && len(l) == len(o):
		simdf32.Parallel(len(o), 1, func(lo, hi int) { simdf32.Binary(op, o[lo:hi], l[lo:hi], r, true, false) })
	case lhsShape.Equal(rhsShape):
		simdf32.Parallel(len(o), 1, func(lo, hi int) { simdf32.Binary(op, o[lo:hi], l[lo:hi], r[lo:hi], true, true) })
	default:
		return broadcastRows(lhsShape, rhsShape, outputShape, func(li, ri, oi, n int, lStep, rStep bool) {
			simdf32.Binary(op, o[oi:oi+n], l[li:], r[ri:], lStep, rStep)
		})
	}
	return true
}
