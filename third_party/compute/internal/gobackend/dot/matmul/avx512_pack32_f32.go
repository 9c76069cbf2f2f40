// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

// gominitron patch (issue 15): the transposed RHS (a linear layer's weight W[out, in]) is packed
// into 32-row strips on every call of the large float32 kernel. unsafePackLHS did it one element
// at a time (22% of a Llama-3.2-1B-shaped forward); this packs 4 rows × 16 contracting values
// per step through the 4×16 AVX-512 transpose the LHS packer already uses.

import (
	"simd/archsimd"
	"unsafe"
)

// avx512PackRowStrips32Float32 packs src[rowStart:rowStart+copyRows, colStart:colStart+contractingCols]
// (row stride srcCols) into strips of 32 rows, [strip][k][32] as unsafePackLHS with kernelRows 32
// (the last partial strip zero-padded, by unsafePackLHS).
func avx512PackRowStrips32Float32(src, panel []float32, rowStart, colStart, srcCols, copyRows, contractingCols int) {
	const strip = 32
	full := copyRows / strip * strip
	kVec := contractingCols &^ 15
	if full > 0 {
		_ = src[(rowStart+full-1)*srcCols+colStart+contractingCols-1]
		_ = panel[full*contractingCols-1]
	}
	srcBase := uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	panelBase := uintptr(unsafe.Pointer(unsafe.SliceData(panel)))
	rowBytes := uintptr(srcCols * 4)
	for s := 0; s < full; s += strip {
		out := panelBase + uintptr(s*contractingCols*4)
		for r := 0; r < strip; r += 4 {
			p := srcBase + uintptr(((rowStart+s+r)*srcCols+colStart)*4)
			for k := 0; k < kVec; k += 16 {
				q := p + uintptr(k*4)
				v0 := archsimd.LoadUint32x16((*[16]uint32)(unsafe.Pointer(q)))
				v1 := archsimd.LoadUint32x16((*[16]uint32)(unsafe.Pointer(q + rowBytes)))
				v2 := archsimd.LoadUint32x16((*[16]uint32)(unsafe.Pointer(q + 2*rowBytes)))
				v3 := archsimd.LoadUint32x16((*[16]uint32)(unsafe.Pointer(q + 3*rowBytes)))
				t0, t1, t2, t3 := avx512Transpose4x16x32bits(v0, v1, v2, v3)
				// t_j holds contracting positions k+4j .. k+4j+3, 4 rows each (one 128-bit lane each).
				dst := out + uintptr((k*strip+r)*4)
				const kStride = strip * 4
				store4 := func(d uintptr, t archsimd.Uint32x16) {
					lo, hi := t.GetLo(), t.GetHi()
					lo.GetLo().Store((*[4]uint32)(unsafe.Pointer(d)))
					lo.GetHi().Store((*[4]uint32)(unsafe.Pointer(d + kStride)))
					hi.GetLo().Store((*[4]uint32)(unsafe.Pointer(d + 2*kStride)))
					hi.GetHi().Store((*[4]uint32)(unsafe.Pointer(d + 3*kStride)))
				}
				store4(dst, t0)
				store4(dst+4*kStride, t1)
				store4(dst+8*kStride, t2)
				store4(dst+12*kStride, t3)
			}
			for k := kVec; k < contractingCols; k++ {
				for i := range 4 {
					panel[s*contractingCols+k*strip+r+i] = src[(rowStart+s+r+i)*srcCols+colStart+k]
				}
			}
		}
	}
	if full < copyRows {
		unsafePackLHS(src, panel[full*contractingCols:], rowStart+full, colStart, srcCols, copyRows-full, contractingCols, strip)
	}
}
