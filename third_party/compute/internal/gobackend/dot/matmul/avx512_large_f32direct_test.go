// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package matmul

import (
	"fmt"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/gomlx/compute/internal/gobackend/dot"
)

// TestAVX512LargeFloat32Direct (gominitron patch): the float32 large path, whose kernel writes
// straight into the output, against a float64 product, for both RHS layouts, on shapes with
// edge tiles (rows not a multiple of 4 or 12, columns not of 32), several contracting panels (K > 256,
// the accumulate path) and sub-ranges of rows and columns as the parallel split hands out; once
// with the 12×32 assembly kernel and once with the 4×32 Go kernel alone.
func TestAVX512LargeFloat32Direct(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	const relTol = 1e-5 // float32 accumulation over ≤ 600 terms of O(1) values
	params := AVX512ParamsFloat32
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct{ m, n, k, rowStart, rowEnd, colStart, colEnd int }{
		{1, 1, 1, 0, 1, 0, 1},
		{5, 33, 7, 0, 5, 0, 33},
		{24, 512, 256, 0, 24, 0, 512},
		{25, 513, 257, 0, 25, 0, 513},
		{50, 70, 600, 0, 50, 0, 70},
		{3, 1000, 129, 0, 3, 0, 1000},
		{60, 600, 300, 24, 50, 512, 600},
		{12, 32, 2, 0, 12, 0, 32},   // one full 12×32 assembly tile, the two-step loop only
		{11, 40, 3, 0, 11, 0, 40},   // 12×32 tiles through the edge buffer, the one-step tail
		{20, 64, 300, 0, 20, 0, 64}, // a 12×32 tile then two 4-row strips; K over two panels
	}
	defer func(saved bool) { avx512Use12x32Float32 = saved }(avx512Use12x32Float32)
	for _, use12x32 := range []bool{true, false} {
		avx512Use12x32Float32 = use12x32
		for _, tc := range cases {
			for _, layout := range []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed} {
				lhs := make([]float32, tc.m*tc.k)
				rhs := make([]float32, tc.k*tc.n)
				for i := range lhs {
					lhs[i] = float32(rng.NormFloat64())
				}
				for i := range rhs {
					rhs[i] = float32(rng.NormFloat64())
				}
				const sentinel = 12345
				out := make([]float32, tc.m*tc.n)
				for i := range out {
					out[i] = sentinel
				}
				packedLHS := make([]float32, params.LHSPanelCrossSize*params.PanelContractingSize)
				packedRHS := make([]float32, params.PanelContractingSize*params.RHSPanelCrossSize)
				packedOut := make([]float32, params.LHSPanelCrossSize*params.RHSPanelCrossSize)
				avx512LargeMatrixSliceFloat32(layout, lhs, rhs, out, tc.m, tc.n, tc.k,
					tc.rowStart, tc.rowEnd, tc.colStart, tc.colEnd, params, packedLHS, packedRHS, packedOut)
				for r := range tc.m {
					for c := range tc.n {
						got := out[r*tc.n+c]
						inside := r >= tc.rowStart && r < tc.rowEnd && c >= tc.colStart && c < tc.colEnd
						if !inside {
							if got != sentinel {
								t.Fatalf("%+v %s: out[%d,%d] outside the range was written", tc, layout, r, c)
							}
							continue
						}
						var want, scale float64
						for i := range tc.k {
							var b float32
							if layout == dot.LayoutNonTransposed {
								b = rhs[i*tc.n+c]
							} else {
								b = rhs[c*tc.k+i]
							}
							want += float64(lhs[r*tc.k+i]) * float64(b)
							scale += math.Abs(float64(lhs[r*tc.k+i]) * float64(b))
						}
						if math.Abs(float64(got)-want) > relTol*scale+1e-6 {
							t.Fatalf("%+v %s 12x32=%v: out[%d,%d] = %g, want %g", tc, layout, use12x32, r, c, got, want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkAVX512LargeFloat32Direct times one core's float32 product on model shapes (tokens ×
// hidden · hidden × out), with the 12×32 assembly kernel and with the 4×32 Go kernel alone;
// GFLOP/s is reported as a metric.
func BenchmarkAVX512LargeFloat32Direct(b *testing.B) {
	if !archsimd.X86.AVX512() {
		b.Skip("no AVX-512")
	}
	params := AVX512ParamsFloat32
	for _, sh := range []struct{ m, k, n int }{{1024, 128, 352}, {1024, 128, 4096}, {1024, 352, 128}, {1024, 576, 1536}, {128, 2048, 8192}} {
		for _, use12x32 := range []bool{true, false} {
			b.Run(fmt.Sprintf("%dx%dx%d/12x32=%v", sh.m, sh.k, sh.n, use12x32), func(b *testing.B) {
				defer func(saved bool) { avx512Use12x32Float32 = saved }(avx512Use12x32Float32)
				avx512Use12x32Float32 = use12x32
				lhs, rhs, out := make([]float32, sh.m*sh.k), make([]float32, sh.k*sh.n), make([]float32, sh.m*sh.n)
				for i := range lhs {
					lhs[i] = float32(i%7) - 3
				}
				for i := range rhs {
					rhs[i] = float32(i%5) - 2
				}
				packedLHS := make([]float32, params.LHSPanelCrossSize*params.PanelContractingSize)
				packedRHS := make([]float32, params.PanelContractingSize*params.RHSPanelCrossSize)
				packedOut := make([]float32, params.LHSPanelCrossSize*params.RHSPanelCrossSize)
				for b.Loop() {
					avx512LargeMatrixSliceFloat32(dot.LayoutTransposed, lhs, rhs, out, sh.m, sh.n, sh.k,
						0, sh.m, 0, sh.n, params, packedLHS, packedRHS, packedOut)
				}
				b.ReportMetric(2*float64(sh.m*sh.k*sh.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
