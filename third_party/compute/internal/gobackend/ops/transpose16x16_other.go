// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build !(amd64 && goexperiment.simd)

package ops

import "unsafe"

// hasTranspose16x16x32 is false without the AVX-512 assembly (transpose16x16_amd64.s).
var hasTranspose16x16x32 = false

func transpose16x16x32(src unsafe.Pointer, srcRowBytes int, dst unsafe.Pointer, dstRowBytes int) {
	panic("transpose16x16x32: no AVX-512 assembly in this build")
}
