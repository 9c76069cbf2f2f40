// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

// gominitron patch (issue 15): the float32 4×32 micro-kernel writes (or, after the first
// contracting panel, adds) its tile straight into the output matrix, instead of into a packed
// output panel that avx512ApplyPackedOutputFloat32 then copied over: one pass less over every
// output panel (that copy was ~20% of a small model's forward).

import (
	"runtime"
	"simd/archsimd"
	"unsafe"
)

//go:generate python3 gen_avx512_kernel12x32.py

// avx512Kernel12x32Float32 (avx512_kernel12x32_f32_amd64.s) computes a 12×32 output tile from
// three packed LHS strips of 4 rows (lhsStripBytes apart, each [k][4]) and one packed RHS strip
// ([k][32]), into out (rows outRowBytes apart), overwriting it or, when accumulate, adding to it.
//
//go:noescape
func avx512Kernel12x32Float32(lhs *float32, lhsStripBytes int, rhs *float32, k int, out *float32, outRowBytes int, accumulate bool)

// avx512Use12x32Float32 selects the 12×32 assembly kernel wherever three LHS strips are left; the
// tests and the benchmark turn it off to run (and time) the 4×32 Go kernel alone.
var avx512Use12x32Float32 = true

// avx512LargeKernelFloat32Direct computes output[row0:row0+lhsActiveRows, col0:col0+rhsActiveCols]
// (row stride outputStride) = (accumulate ? output + : ) packedLHS · packedRHS over
// contractingLen, for an LHS packed in strips of 4 rows and an RHS in strips of 32 columns
// (both zero-padded to whole strips).
func avx512LargeKernelFloat32Direct(
	packedLHS, packedRHS []float32,
	output []float32, outputStride, row0, col0 int,
	contractingLen int,
	lhsActiveRows, rhsActiveCols int,
	accumulate bool,
) {
	defer func() {
		runtime.KeepAlive(packedLHS)
		runtime.KeepAlive(packedRHS)
		runtime.KeepAlive(output)
	}()
	const (
		kernelRows    = 4
		kernelCols    = 32
		numLanes      = 16
		bytesPerElem  = 4
		lhsStride     = kernelRows * bytesPerElem
		rhsStride     = kernelCols * bytesPerElem
		registerBytes = numLanes * bytesPerElem
	)
	lhsStrips := (lhsActiveRows + kernelRows - 1) / kernelRows
	rhsStrips := (rhsActiveCols + kernelCols - 1) / kernelCols
	_ = packedLHS[lhsStrips*kernelRows*contractingLen-1]
	_ = packedRHS[rhsStrips*kernelCols*contractingLen-1]
	_ = output[(row0+lhsActiveRows-1)*outputStride+col0+rhsActiveCols-1]

	rhsBasePtr := uintptr(unsafe.Pointer(unsafe.SliceData(packedRHS)))
	lhsBasePtr := uintptr(unsafe.Pointer(unsafe.SliceData(packedLHS)))
	outputBasePtr := uintptr(unsafe.Pointer(unsafe.SliceData(output)))
	outputRowBytes := uintptr(outputStride * bytesPerElem)
	var edge [3 * kernelRows][kernelCols]float32 // a partial tile (of either kernel), before it is copied to output

	for rhsColIdx := 0; rhsColIdx < rhsActiveCols; rhsColIdx += kernelCols {
		rhsRowPtr := rhsBasePtr + uintptr(rhsColIdx*contractingLen*bytesPerElem)
		for lhsRowIdx := 0; lhsRowIdx < lhsActiveRows; lhsRowIdx += kernelRows {
			if avx512Use12x32Float32 && lhsActiveRows-lhsRowIdx > 2*kernelRows { // three strips left (the last may be padding): the 12×32 assembly kernel
				rows, cols := min(3*kernelRows, lhsActiveRows-lhsRowIdx), min(kernelCols, rhsActiveCols-rhsColIdx)
				stripBytes := contractingLen * kernelRows * bytesPerElem
				if rows == 3*kernelRows && cols == kernelCols {
					avx512Kernel12x32Float32(&packedLHS[lhsRowIdx*contractingLen], stripBytes,
						&packedRHS[rhsColIdx*contractingLen], contractingLen,
						&output[(row0+lhsRowIdx)*outputStride+col0+rhsColIdx], int(outputRowBytes), accumulate)
				} else {
					avx512Kernel12x32Float32(&packedLHS[lhsRowIdx*contractingLen], stripBytes,
						&packedRHS[rhsColIdx*contractingLen], contractingLen, &edge[0][0], kernelCols*bytesPerElem, false)
					writeEdgeTile(output, outputStride, row0+lhsRowIdx, col0+rhsColIdx, edge[:rows], cols, accumulate)
				}
				lhsRowIdx += 2 * kernelRows // and kernelRows more by the loop
				continue
			}
			lhsRowPtr := lhsBasePtr + uintptr(lhsRowIdx*contractingLen*bytesPerElem)
			var a00, a01, a10, a11, a20, a21, a30, a31 archsimd.Float32x16
			rp, lp := rhsRowPtr, lhsRowPtr
			k := contractingLen
			for ; k >= 2; k -= 2 { // two contracting steps per iteration: half the loop overhead
				r0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(rp)))
				r1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(rp + registerBytes)))
				b := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp)))
				a00 = r0.MulAdd(b, a00)
				a01 = r1.MulAdd(b, a01)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + 4)))
				a10 = r0.MulAdd(b, a10)
				a11 = r1.MulAdd(b, a11)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + 8)))
				a20 = r0.MulAdd(b, a20)
				a21 = r1.MulAdd(b, a21)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + 12)))
				a30 = r0.MulAdd(b, a30)
				a31 = r1.MulAdd(b, a31)
				r0 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(rp + rhsStride)))
				r1 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(rp + rhsStride + registerBytes)))
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + lhsStride)))
				a00 = r0.MulAdd(b, a00)
				a01 = r1.MulAdd(b, a01)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + lhsStride + 4)))
				a10 = r0.MulAdd(b, a10)
				a11 = r1.MulAdd(b, a11)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + lhsStride + 8)))
				a20 = r0.MulAdd(b, a20)
				a21 = r1.MulAdd(b, a21)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + lhsStride + 12)))
				a30 = r0.MulAdd(b, a30)
				a31 = r1.MulAdd(b, a31)
				rp += 2 * rhsStride
				lp += 2 * lhsStride
			}
			if k == 1 {
				r0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(rp)))
				r1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(rp + registerBytes)))
				b := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp)))
				a00 = r0.MulAdd(b, a00)
				a01 = r1.MulAdd(b, a01)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + 4)))
				a10 = r0.MulAdd(b, a10)
				a11 = r1.MulAdd(b, a11)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + 8)))
				a20 = r0.MulAdd(b, a20)
				a21 = r1.MulAdd(b, a21)
				b = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Pointer(lp + 12)))
				a30 = r0.MulAdd(b, a30)
				a31 = r1.MulAdd(b, a31)
			}

			rows, cols := min(kernelRows, lhsActiveRows-lhsRowIdx), min(kernelCols, rhsActiveCols-rhsColIdx)
			if rows == kernelRows && cols == kernelCols {
				p := outputBasePtr + uintptr(row0+lhsRowIdx)*outputRowBytes + uintptr((col0+rhsColIdx)*bytesPerElem)
				if accumulate {
					a00 = a00.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p))))
					a01 = a01.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p + registerBytes))))
					a10 = a10.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p + outputRowBytes))))
					a11 = a11.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p + outputRowBytes + registerBytes))))
					a20 = a20.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p + 2*outputRowBytes))))
					a21 = a21.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p + 2*outputRowBytes + registerBytes))))
					a30 = a30.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p + 3*outputRowBytes))))
					a31 = a31.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(p + 3*outputRowBytes + registerBytes))))
				}
				a00.Store((*[16]float32)(unsafe.Pointer(p)))
				a01.Store((*[16]float32)(unsafe.Pointer(p + registerBytes)))
				a10.Store((*[16]float32)(unsafe.Pointer(p + outputRowBytes)))
				a11.Store((*[16]float32)(unsafe.Pointer(p + outputRowBytes + registerBytes)))
				a20.Store((*[16]float32)(unsafe.Pointer(p + 2*outputRowBytes)))
				a21.Store((*[16]float32)(unsafe.Pointer(p + 2*outputRowBytes + registerBytes)))
				a30.Store((*[16]float32)(unsafe.Pointer(p + 3*outputRowBytes)))
				a31.Store((*[16]float32)(unsafe.Pointer(p + 3*outputRowBytes + registerBytes)))
				continue
			}
			// Partial tile (the matrix edge): through edge, only the valid part reaches output.
			a00.Store((*[16]float32)(edge[0][0:16]))
			a01.Store((*[16]float32)(edge[0][16:32]))
			a10.Store((*[16]float32)(edge[1][0:16]))
			a11.Store((*[16]float32)(edge[1][16:32]))
			a20.Store((*[16]float32)(edge[2][0:16]))
			a21.Store((*[16]float32)(edge[2][16:32]))
			a30.Store((*[16]float32)(edge[3][0:16]))
			a31.Store((*[16]float32)(edge[3][16:32]))
			writeEdgeTile(output, outputStride, row0+lhsRowIdx, col0+rhsColIdx, edge[:rows], cols, accumulate)
		}
	}
}

// writeEdgeTile writes (or, when accumulate, adds) the first cols values of each row of a
// partial tile into output at [row, col] (row stride outputStride).
func writeEdgeTile(output []float32, outputStride, row, col int, tile [][32]float32, cols int, accumulate bool) {
	for r := range tile {
		out := output[(row+r)*outputStride+col:][:cols]
		if accumulate {
			for c := range out {
				out[c] += tile[r][c]
			}
		} else {
			copy(out, tile[r][:cols])
		}
	}
}
