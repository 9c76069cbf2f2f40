// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/gomlx/compute/internal/gobackend/dot"
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

// TestAVX512KernelsBitIdentical (gominitron patch): the assembly kernels sum every output in
// the same order as the Go kernels they stand in for, so a product is bit for bit the same
// whichever kernel computes a given output (a product split into column chunks must equal the
// whole one: gominitron's lm_head conversion in chunks relies on it).
func TestAVX512KernelsBitIdentical(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	defer func(g, l bool) { avx512UseGemv4x4, avx512Use12x32Float32 = g, l }(avx512UseGemv4x4, avx512Use12x32Float32)
	rng := rand.New(rand.NewPCG(13, 14))
	params := AVX512ParamsFloat32
	for _, sh := range []struct{ m, n, k int }{{3, 37, 100}, {6, 64, 576}, {8, 21, 17}, {30, 70, 300}, {13, 33, 5}} {
		lhs, rhs := make([]float32, sh.m*sh.k), make([]float32, sh.n*sh.k)
		for i := range lhs {
			lhs[i] = float32(rng.NormFloat64())
		}
		for i := range rhs {
			rhs[i] = float32(rng.NormFloat64())
		}
		product := func(asm bool) []float32 {
			avx512UseGemv4x4, avx512Use12x32Float32 = asm, asm
			out := make([]float32, sh.m*sh.n)
			if sh.m <= gemvMaxRows {
				avx512GemvTransposedFloat32(nil, lhs, rhs, 1, sh.m, sh.n, sh.k, out)
			} else {
				avx512LargeMatrixSliceFloat32(dot.LayoutTransposed, lhs, rhs, out, sh.m, sh.n, sh.k, 0, sh.m, 0, sh.n, params,
					make([]float32, params.LHSPanelCrossSize*params.PanelContractingSize),
					make([]float32, params.PanelContractingSize*params.RHSPanelCrossSize),
					make([]float32, params.LHSPanelCrossSize*params.RHSPanelCrossSize))
			}
			return out
		}
		withAsm, goOnly := product(true), product(false)
		for i := range withAsm {
			if math.Float32bits(withAsm[i]) != math.Float32bits(goOnly[i]) {
				t.Fatalf("%+v: output %d is %g with the assembly kernels, %g with the Go ones", sh, i, withAsm[i], goOnly[i])
			}
		}
	}
}
