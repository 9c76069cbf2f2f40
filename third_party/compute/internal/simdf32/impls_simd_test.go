// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package simdf32

import "simd/archsimd"

func implsSIMD() []impl {
	var out []impl
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		out = append(out, impl{"avx2", expAVX2, logisticAVX2, maxRowsAVX2, sumRowsAVX2, softmaxRowsAVX2, binaryAVX2, sqrtAVX2})
	}
	if archsimd.X86.AVX512() {
		out = append(out, impl{"avx512", expAVX512, logisticAVX512, maxRowsAVX512, sumRowsAVX512, softmaxRowsAVX512, binaryAVX512, sqrtAVX512})
	}
	return out
}
