// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

// Package simdf32 holds float32 kernels of the Go backend that run on whole slices: exp,
// logistic (sigmoid) and row reductions (max, sum). With GOEXPERIMENT=simd on an AVX-512
// CPU they use 16-lane vectors; otherwise they are plain loops with the results of the
// generic ops (math.Exp in float64, sequential sums).
//
// gominitron patch (issue 15): the generic Go backend ran these through per-element
// math.Exp in float64 and a per-element reduce iterator (5-9 ns per element).
package simdf32

import (
	"math"

	"github.com/gomlx/compute/internal/fastmath"
)

// Exp sets dst[i] = e^src[i]. dst and src have the same length (they may be the same slice).
var Exp = expScalar

// Logistic sets dst[i] = 1/(1+e^-src[i]).
var Logistic = logisticScalar

// MaxRows sets dst[r] = max(src[r*rowLen : (r+1)*rowLen]) for every row r; a NaN in a row
// makes its result NaN. len(src) = len(dst)*rowLen, rowLen ≥ 1.
var MaxRows = maxRowsScalar

// SumRows sets dst[r] = Σ src[r*rowLen : (r+1)*rowLen].
var SumRows = sumRowsScalar

func expScalar(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(math.Exp(float64(x)))
	}
}

func logisticScalar(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		if x >= 0 {
			dst[i] = float32(1 / (1 + math.Exp(-float64(x))))
		} else {
			e := math.Exp(float64(x))
			dst[i] = float32(e / (1 + e))
		}
	}
}

func maxRowsScalar(dst, src []float32, rowLen int) {
	for r := range dst {
		row := src[r*rowLen : (r+1)*rowLen]
		m := float32(math.Inf(-1))
		for _, v := range row {
			m = max(m, v)
		}
		dst[r] = m
	}
}

func sumRowsScalar(dst, src []float32, rowLen int) {
	for r := range dst {
		row := src[r*rowLen : (r+1)*rowLen]
		var s float32
		for _, v := range row {
			s += v
		}
		dst[r] = s
	}
}

// SoftmaxRows sets each row of dst (rowLen values) to the softmax of that row of src:
// e^(x-max)/Σ e^(x-max). The scalar version uses fastmath.Exp32, like the fused softmax.
var SoftmaxRows = softmaxRowsScalar

func softmaxRowsScalar(dst, src []float32, rowLen int) {
	for r := range len(src) / rowLen {
		row, out := src[r*rowLen:(r+1)*rowLen], dst[r*rowLen:(r+1)*rowLen]
		m := float32(math.Inf(-1))
		for _, v := range row {
			if v > m {
				m = v
			}
		}
		var sum float32
		for i, v := range row {
			out[i] = fastmath.Exp32(v - m)
			sum += out[i]
		}
		inv := 1 / sum
		for i := range out {
			out[i] *= inv
		}
	}
}

// Sqrt sets dst[i] = √src[i], correctly rounded (bit for bit math.Sqrt rounded to float32).
var Sqrt = sqrtScalar

func sqrtScalar(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(math.Sqrt(float64(x)))
	}
}
