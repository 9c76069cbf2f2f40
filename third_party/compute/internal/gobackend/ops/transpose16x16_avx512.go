// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package ops

import (
	"simd/archsimd"
	"unsafe"
)

//go:generate python3 gen_transpose16x16.py

// transpose16x16x32 (transpose16x16_amd64.s, gominitron patch) writes dst[c][r] = src[r][c] for
// a 16×16 tile of 32-bit values, rows srcRowBytes and dstRowBytes apart.
//
//go:noescape
func transpose16x16x32(src unsafe.Pointer, srcRowBytes int, dst unsafe.Pointer, dstRowBytes int)

// hasTranspose16x16x32 reports whether transpose16x16x32 can run here (AVX-512); the tests turn
// it off to run the scalar tiles alone.
var hasTranspose16x16x32 = archsimd.X86.AVX512()
