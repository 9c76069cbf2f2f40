// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestTransposeFast: every permutation the fast path takes matches the generic iterator, on
// shapes with size-1 axes, merged axes and tiles that do not divide the dimensions.
func TestTransposeFast(t *testing.T) {
	cases := []struct {
		dims []int
		perm []int
	}{
		{[]int{7}, []int{0}},
		{[]int{33, 65}, []int{1, 0}},
		{[]int{2, 48, 40}, []int{0, 2, 1}}, // whole 16×16 tiles (the AVX-512 transpose for 32-bit values) and edges
		{[]int{3, 1, 40, 5}, []int{0, 2, 1, 3}},
		{[]int{2, 5, 4, 3}, []int{0, 2, 1, 3}},
		{[]int{2, 5, 4, 3}, []int{0, 1, 3, 2}},
		{[]int{2, 5, 4, 3}, []int{3, 2, 1, 0}}, // generic path
		{[]int{2, 5, 4, 3, 2}, []int{0, 2, 1, 3, 4}},
		{[]int{6, 1, 7}, []int{2, 1, 0}},
		{[]int{4, 6, 7}, []int{1, 2, 0}},
		{[]int{4, 6, 7}, []int{2, 0, 1}},
	}
	for _, tc := range cases {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16, dtypes.Int64, dtypes.Uint8} {
			shape := shapes.Make(dtype, tc.dims...)
			n := shape.Size()
			operand := &gobackend.Buffer{RawShape: shape, RawBytes: make([]byte, n*dtype.Size())}
			for i := range operand.RawBytes {
				operand.RawBytes[i] = byte(i*7 + i/5)
			}
			outDims := make([]int, len(tc.dims))
			for i, a := range tc.perm {
				outDims[i] = tc.dims[a]
			}
			fast := &gobackend.Buffer{RawShape: shapes.Make(dtype, outDims...), RawBytes: make([]byte, n*dtype.Size())}
			mergedDims, mergedPerm := mergeTransposeAxes(tc.dims, tc.perm)
			if !transposeFast(operand, fast, mergedDims, mergedPerm) {
				continue // the generic path runs: nothing to compare
			}
			// Reference: element by element with the generic iterator, on raw elements.
			it := NewTransposeIterator(shape, tc.perm)
			want := make([]byte, len(fast.RawBytes))
			size := dtype.Size()
			for i := range n {
				j := it.Next()
				copy(want[j*size:(j+1)*size], operand.RawBytes[i*size:(i+1)*size])
			}
			if !slices.Equal(fast.RawBytes, want) {
				t.Errorf("dims %v perm %v %s: fast transpose differs from the iterator", tc.dims, tc.perm, dtype)
			}
		}
	}
}

// TestTransposeLayoutIdentity: a transpose that only moves size-1 axes keeps the memory layout
// (mergeTransposeAxes leaves at most one axis), so execTranspose may run it as a reshape.
func TestTransposeLayoutIdentity(t *testing.T) {
	for _, tc := range []struct {
		dims, perm []int
		identity   bool
	}{
		{[]int{8, 1, 128}, []int{1, 0, 2}, true},
		{[]int{1, 5, 1, 7}, []int{2, 0, 1, 3}, true},
		{[]int{1, 1}, []int{1, 0}, true},
		{[]int{3, 1, 4}, []int{2, 1, 0}, false},
	} {
		dims, _ := mergeTransposeAxes(tc.dims, tc.perm)
		if got := len(dims) <= 1; got != tc.identity {
			t.Errorf("dims %v perm %v: merged to %v, layout identity %v, want %v", tc.dims, tc.perm, dims, got, tc.identity)
		}
	}
}
