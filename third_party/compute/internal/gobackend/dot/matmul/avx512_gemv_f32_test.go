// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestAVX512GemvTransposedFloat32 (gominitron patch): the few-rows transposed product against a
// float64 one, for 1..8 LHS rows (the zero-padded groups), odd column counts (the one-column
// path), contracting sizes with and without a tail (and below one vector), and a batch of 2;
// with the 4×4 assembly kernel and with the Go loop alone; nothing is written past the output.
func TestAVX512GemvTransposedFloat32(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	const relTol = 1e-5
	rng := rand.New(rand.NewPCG(11, 12))
	defer func(saved bool) { avx512UseGemv4x4 = saved }(avx512UseGemv4x4)
	for _, use4x4 := range []bool{true, false} {
		avx512UseGemv4x4 = use4x4
		for _, batch := range []int{1, 2} {
			for _, m := range []int{1, 2, 3, 4, 5, 6, 8} {
				for _, n := range []int{1, 2, 3, 65, 130} {
					for _, k := range []int{1, 5, 16, 17, 31, 100, 576} {
						lhs, rhs := make([]float32, batch*m*k), make([]float32, batch*n*k)
						for i := range lhs {
							lhs[i] = float32(rng.NormFloat64())
						}
						for i := range rhs {
							rhs[i] = float32(rng.NormFloat64())
						}
						const sentinel = 4321
						padded := make([]float32, batch*m*n+2*n)
						for i := range padded {
							padded[i] = sentinel
						}
						out := padded[:batch*m*n]
						avx512GemvTransposedFloat32(nil, lhs, rhs, batch, m, n, k, out)
						for i, v := range padded[batch*m*n:] {
							if v != sentinel {
								t.Fatalf("4x4=%v batch %d m %d n %d k %d: written past the output (%d)", use4x4, batch, m, n, k, i)
							}
						}
						for b := range batch {
							for r := range m {
								for c := range n {
									var want, scale float64
									for i := range k {
										p := float64(lhs[(b*m+r)*k+i]) * float64(rhs[(b*n+c)*k+i])
										want += p
										scale += math.Abs(p)
									}
									if got := float64(out[(b*m+r)*n+c]); math.Abs(got-want) > relTol*scale+1e-6 {
										t.Fatalf("4x4=%v batch %d m %d n %d k %d: out[%d,%d,%d] = %g, want %g", use4x4, batch, m, n, k, b, r, c, got, want)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}
