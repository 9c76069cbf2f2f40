// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

// gominitron patch (issue 15): float32 products with few LHS rows and a transposed RHS — the
// decoding step of a language model, x[rows, K] · W[N, K]ᵀ — as a streaming kernel split over
// the output columns: every RHS row is read once for up to 4 LHS rows, with no packing. Before,
// these went either to avx512SmallFloat32Transposed (one core, the RHS read once per LHS row,
// one accumulator chain) or, for the LM head, to the large kernel, which copied (packed) the
// whole weight matrix on every call.

import (
	"simd/archsimd"
	"unsafe"

	"github.com/gomlx/compute/internal/gobackend"
)

// gemvMaxRows is the most LHS rows routed to avx512GemvTransposedFloat32.
const gemvMaxRows = 8

// gemvChunkCols is the number of output columns per work item.
const gemvChunkCols = 64

// avx512GemvTransposedFloat32 computes output[b, m, n] = Σ_k lhs[b, m, k] · rhs[b, n, k].
func avx512GemvTransposedFloat32(backend *gobackend.Backend, lhs, rhs []float32,
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int, output []float32) {
	type item struct{ batch, colStart, colEnd int }
	chunks := (rhsCrossSize + gemvChunkCols - 1) / gemvChunkCols
	work := make(chan item, batchSize*chunks)
	for b := range batchSize {
		for c := 0; c < rhsCrossSize; c += gemvChunkCols {
			work <- item{b, c, min(c+gemvChunkCols, rhsCrossSize)}
		}
	}
	close(work)
	run := func() {
		var padded []float32 // LHS rows zero-padded to 4, when fewer are left
		for it := range work {
			x := lhs[it.batch*lhsCrossSize*contractingSize:][:lhsCrossSize*contractingSize]
			w := rhs[it.batch*rhsCrossSize*contractingSize:][:rhsCrossSize*contractingSize]
			out := output[it.batch*lhsCrossSize*rhsCrossSize:][:lhsCrossSize*rhsCrossSize]
			for r0 := 0; r0 < lhsCrossSize; r0 += 4 {
				rows := min(4, lhsCrossSize-r0)
				x4 := x[r0*contractingSize:]
				if rows < 4 {
					if padded == nil {
						padded = make([]float32, 4*contractingSize)
					}
					clear(padded)
					copy(padded, x4[:rows*contractingSize])
					x4 = padded
				}
				gemvRows4Float32(x4[:4*contractingSize], w, out, rhsCrossSize, r0, rows, it.colStart, it.colEnd, contractingSize)
			}
		}
	}
	if backend == nil || backend.Workers == nil || backend.Workers.AdjustedMaxParallelism() <= 1 || batchSize*chunks == 1 {
		run()
		return
	}
	backend.Workers.Saturate(run)
}

//go:generate python3 gen_avx512_gemv4x4.py

// avx512Gemv4x4Float32 (avx512_gemv4x4_f32_amd64.s) sets out[r*outRowBytes/4 + c] = x[r, :]·w[c, :]
// for r < rows and c < cols (a multiple of 4), where x holds 4 rows of k floats (those past rows
// zero) and w cols rows of k floats.
//
//go:noescape
func avx512Gemv4x4Float32(x, w *float32, k, cols int, out *float32, outRowBytes, rows int)

// avx512UseGemv4x4 selects the assembly kernel for whole groups of 4 columns; the tests turn it
// off to run the Go loop alone.
var avx512UseGemv4x4 = true

// gemvRows4Float32 sets out[(r0+r)*outStride + n] = x[r, :] · w[n, :] for r < rows and
// n ∈ [colStart, colEnd); x holds 4 rows of k values (rows past `rows` are zero).
func gemvRows4Float32(x, w, out []float32, outStride, r0, rows, colStart, colEnd, k int) {
	_ = x[4*k-1]
	_ = w[colEnd*k-1]
	xp := uintptr(unsafe.Pointer(unsafe.SliceData(x)))
	wp := uintptr(unsafe.Pointer(unsafe.SliceData(w)))
	rowBytes := uintptr(k * 4)
	kVec := k &^ 15
	var tailX [4][16]float32 // the last k%16 values of each x row, zero-padded
	var tailW [2][16]float32
	if kVec < k {
		for r := range 4 {
			copy(tailX[r][:], x[r*k+kVec:(r+1)*k])
		}
	}
	store := func(n int, s0, s1, s2, s3 archsimd.Float32x16) {
		sums := [4]float32{avx512ReduceSumFloat32x16(s0), avx512ReduceSumFloat32x16(s1), avx512ReduceSumFloat32x16(s2), avx512ReduceSumFloat32x16(s3)}
		for r := range rows {
			out[(r0+r)*outStride+n] = sums[r]
		}
	}
	n := colStart
	if groups := (colEnd - colStart) &^ 3; avx512UseGemv4x4 && groups > 0 { // whole groups of 4 columns: the assembly kernel
		avx512Gemv4x4Float32(&x[0], &w[colStart*k], k, groups, &out[r0*outStride+colStart], outStride*4, rows)
		n += groups
	}
	for ; n+2 <= colEnd; n += 2 {
		w0p, w1p := wp+uintptr(n)*rowBytes, wp+uintptr(n+1)*rowBytes
		var a00, a01, a10, a11, a20, a21, a30, a31 archsimd.Float32x16
		for kk := uintptr(0); kk < uintptr(kVec)*4; kk += 64 {
			w0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(w0p + kk)))
			w1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(w1p + kk)))
			v := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp + kk)))
			a00 = v.MulAdd(w0, a00)
			a01 = v.MulAdd(w1, a01)
			v = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp + rowBytes + kk)))
			a10 = v.MulAdd(w0, a10)
			a11 = v.MulAdd(w1, a11)
			v = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp + 2*rowBytes + kk)))
			a20 = v.MulAdd(w0, a20)
			a21 = v.MulAdd(w1, a21)
			v = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp + 3*rowBytes + kk)))
			a30 = v.MulAdd(w0, a30)
			a31 = v.MulAdd(w1, a31)
		}
		if kVec < k {
			copy(tailW[0][:], w[n*k+kVec:(n+1)*k])
			copy(tailW[1][:], w[(n+1)*k+kVec:(n+2)*k])
			w0, w1 := archsimd.LoadFloat32x16(&tailW[0]), archsimd.LoadFloat32x16(&tailW[1])
			v := archsimd.LoadFloat32x16(&tailX[0])
			a00, a01 = v.MulAdd(w0, a00), v.MulAdd(w1, a01)
			v = archsimd.LoadFloat32x16(&tailX[1])
			a10, a11 = v.MulAdd(w0, a10), v.MulAdd(w1, a11)
			v = archsimd.LoadFloat32x16(&tailX[2])
			a20, a21 = v.MulAdd(w0, a20), v.MulAdd(w1, a21)
			v = archsimd.LoadFloat32x16(&tailX[3])
			a30, a31 = v.MulAdd(w0, a30), v.MulAdd(w1, a31)
		}
		store(n, a00, a10, a20, a30)
		store(n+1, a01, a11, a21, a31)
	}
	if n < colEnd { // one column left
		w0p := wp + uintptr(n)*rowBytes
		var a0, a1, a2, a3 archsimd.Float32x16
		for kk := uintptr(0); kk < uintptr(kVec)*4; kk += 64 {
			w0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(w0p + kk)))
			a0 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp+kk))).MulAdd(w0, a0)
			a1 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp+rowBytes+kk))).MulAdd(w0, a1)
			a2 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp+2*rowBytes+kk))).MulAdd(w0, a2)
			a3 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Pointer(xp+3*rowBytes+kk))).MulAdd(w0, a3)
		}
		if kVec < k {
			copy(tailW[0][:], w[n*k+kVec:(n+1)*k])
			w0 := archsimd.LoadFloat32x16(&tailW[0])
			a0 = archsimd.LoadFloat32x16(&tailX[0]).MulAdd(w0, a0)
			a1 = archsimd.LoadFloat32x16(&tailX[1]).MulAdd(w0, a1)
			a2 = archsimd.LoadFloat32x16(&tailX[2]).MulAdd(w0, a2)
			a3 = archsimd.LoadFloat32x16(&tailX[3]).MulAdd(w0, a3)
		}
		store(n, a0, a1, a2, a3)
	}
}
