// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package ops

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestBroadcastRows: the row-wise broadcast of the generic binary ops (gominitron patch) gives
// what the per-element iterator gives, for Sub (not commutative) and LessThan (bool output), on
// RMSNorm-, RoPE-, bias- and outer-product-like shapes, including ones left to the iterator.
func TestBroadcastRows(t *testing.T) {
	cases := [][2][]int{
		{{2, 3, 16}, {2, 3, 1}},  // per-row scale
		{{2, 3, 16}, {1, 1, 16}}, // per-column weight
		{{1, 1, 16}, {2, 3, 16}}, // the same, swapped
		{{4, 1, 9}, {1, 5, 9}},   // both broadcast on different axes
		{{4, 1}, {1, 12}},        // outer product
		{{2, 2, 3, 1, 10}, {1, 1, 3, 4, 10}},
		{{3, 4, 2}, {3, 1, 2}}, // short rows: the iterator path
		{{2, 1, 1, 8}, {2, 3, 1, 1}},
	}
	for _, c := range cases {
		lhsShape, rhsShape := shapes.Make(dtypes.Float32, c[0]...), shapes.Make(dtypes.Float32, c[1]...)
		outDims := make([]int, len(c[0]))
		for i := range outDims {
			outDims[i] = max(c[0][i], c[1][i])
		}
		outShape := shapes.Make(dtypes.Float32, outDims...)
		lhs, rhs := make([]float32, lhsShape.Size()), make([]float32, rhsShape.Size())
		for i := range lhs {
			lhs[i] = float32(i*3%17) - 4
		}
		for i := range rhs {
			rhs[i] = float32(i*5%13) - 6
		}
		wantSub, wantLess := make([]float32, outShape.Size()), make([]bool, outShape.Size())
		for idx := range gobackend.NewZippedBroadcastIterator(lhsShape, rhsShape, outShape).IterFlatIndices() {
			wantSub[idx.TgtFlatIdx] = lhs[idx.LHSFlatIdx] - rhs[idx.RHSFlatIdx]
			wantLess[idx.TgtFlatIdx] = lhs[idx.LHSFlatIdx] < rhs[idx.RHSFlatIdx]
		}
		gotSub, gotLess := make([]float32, outShape.Size()), make([]bool, outShape.Size())
		execSubNumericGeneric(lhs, rhs, gotSub, lhsShape, rhsShape, outShape)
		execLessThanNumericGeneric(lhs, rhs, gotLess, lhsShape, rhsShape, outShape)
		for i := range wantSub {
			if gotSub[i] != wantSub[i] || gotLess[i] != wantLess[i] {
				t.Fatalf("%v op %v: element %d: sub %g / less %v, want %g / %v", c[0], c[1], i, gotSub[i], gotLess[i], wantSub[i], wantLess[i])
			}
		}
	}
}
