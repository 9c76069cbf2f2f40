// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package simdf32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulpsApart counts the float32 values between a and b (0 if equal; both finite or equal).
func ulpsApart(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 == (ib < 0x80000000) {
		d := ia - ib
		if d < 0 {
			d = -d
		}
		return d
	}
	return math.MaxInt64
}

func testInputs() []float32 {
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 88, 88.7, 89, 100, -87, -87.4, -100, -103.9, -104, -200,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-30, -1e-30, math.MaxFloat32, -math.MaxFloat32}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		xs = append(xs, float32(rng.Float64()*200-100))
	}
	for range 1000 {
		xs = append(xs, float32(rng.NormFloat64()))
	}
	return xs // length not a multiple of 16: the tail path runs too
}

// TestExpLogistic: the active implementations (AVX-512 where available) against math.Exp in float64
// rounded to float32: ≤ 2 ulp for normal results, 1e-45 absolute in the subnormal range; NaN, ±Inf exact.
func TestExpLogistic(t *testing.T) {
	const maxULP = 2
	xs := testInputs()
	got := make([]float32, len(xs))
	for _, im := range implementations() {
		t.Logf("implementation %s", im.name)
		for _, tc := range []struct {
			name string
			fn   func(dst, src []float32)
			ref  func(float64) float64
		}{
			{im.name + "/Exp", im.exp, math.Exp},
			{im.name + "/Logistic", im.logistic, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
		} {
			tc.fn(got, xs)
			for i, x := range xs {
				want := float32(tc.ref(float64(x)))
				g := got[i]
				switch {
				case math.IsNaN(float64(want)):
					if !math.IsNaN(float64(g)) {
						t.Errorf("%s(%g) = %g, want NaN", tc.name, x, g)
					}
				case math.IsInf(float64(want), 0) || want == 0:
					if g != want {
						t.Errorf("%s(%g) = %g, want %g", tc.name, x, g, want)
					}
				case math.Abs(float64(want)) < 1.1754944e-38: // subnormal
					if math.Abs(float64(g-want)) > 2e-45 {
						t.Errorf("%s(%g) = %g, want %g (subnormal)", tc.name, x, g, want)
					}
				default:
					if d := ulpsApart(g, want); d > maxULP {
						t.Errorf("%s(%g) = %g, want %g (%d ulp apart)", tc.name, x, g, want, d)
					}
				}
			}
		}
	}
}

// TestRows: MaxRows (NaN propagates) and SumRows against float64 references, row lengths
// below and above the vector paths.
func TestRows(t *testing.T) {
	for _, im := range implementations() {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, rowLen := range []int{1, 7, 15, 16, 31, 32, 33, 100, 4096} {
			rows := 5
			src := make([]float32, rows*rowLen)
			for i := range src {
				src[i] = float32(rng.NormFloat64() * 10)
			}
			src[3*rowLen+rowLen/2] = float32(math.NaN())
			mx, sm := make([]float32, rows), make([]float32, rows)
			im.maxRows(mx, src, rowLen)
			im.sumRows(sm, src, rowLen)
			for r := range rows {
				row := src[r*rowLen : (r+1)*rowLen]
				wantMax, wantSum, absSum := math.Inf(-1), 0.0, 0.0
				for _, v := range row {
					wantMax = math.Max(wantMax, float64(v))
					wantSum += float64(v)
					absSum += math.Abs(float64(v))
				}
				if r == 3 {
					if !math.IsNaN(float64(mx[r])) || !math.IsNaN(float64(sm[r])) {
						t.Errorf("rowLen %d: row with a NaN: max %g, sum %g, want NaN", rowLen, mx[r], sm[r])
					}
					continue
				}
				if float64(mx[r]) != wantMax {
					t.Errorf("rowLen %d row %d: max %g, want %g", rowLen, r, mx[r], wantMax)
				}
				// float32 summation: error ≤ rowLen·ε·Σ|v| (any order).
				if bound := float64(rowLen) * 6e-8 * absSum; math.Abs(float64(sm[r])-wantSum) > bound {
					t.Errorf("%s rowLen %d row %d: sum %g, want %g ± %g", im.name, rowLen, r, sm[r], wantSum, bound)
				}
			}
		}
	}
}

func BenchmarkExp(b *testing.B) {
	xs := testInputs()[:16384]
	out := make([]float32, len(xs))
	b.SetBytes(int64(4 * len(xs)))
	for b.Loop() {
		Exp(out, xs)
	}
}

// TestSoftmaxRows against a float64 softmax. Bound per value: a few float32 ulps for exp, sum and
// divide, the rounding of x-max in float32 (|x-max|·ε relative, inherent to float32 softmax) and of a
// sequential float32 sum (rowLen·ε).
func TestSoftmaxRows(t *testing.T) {
	const eps32 = 6e-8
	for _, im := range implementations() {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, rowLen := range []int{1, 5, 8, 9, 16, 17, 128, 130} {
			rows := 3
			src := make([]float32, rows*rowLen)
			for i := range src {
				src[i] = float32(rng.NormFloat64() * 5)
			}
			if rowLen > 2 {
				src[rowLen+1] = float32(math.Inf(-1)) // a masked position
			}
			dst := make([]float32, len(src))
			im.softmaxRows(dst, src, rowLen)
			for r := range rows {
				row := src[r*rowLen : (r+1)*rowLen]
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, float64(v))
				}
				sum := 0.0
				for _, v := range row {
					sum += math.Exp(float64(v) - m)
				}
				for i, v := range row {
					want := math.Exp(float64(v)-m) / sum
					bound := want * eps32 * (8 + math.Abs(float64(v)-m) + float64(rowLen))
					if got := float64(dst[r*rowLen+i]); math.Abs(got-want) > bound+1e-30 {
						t.Errorf("%s rowLen %d row %d [%d]: %g, want %g", im.name, rowLen, r, i, got, want)
					}
				}
			}
		}
	}
}

// TestBinary: the vectorized loops equal plain float32 arithmetic bit for bit (IEEE add, sub,
// mul and div are correctly rounded either way), in every operand form, with tails.
func TestBinary(t *testing.T) {
	for _, im := range implementations() {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 100} {
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			b[0] = 0.375
			for _, op := range []BinaryOp{OpAdd, OpSub, OpMul, OpDiv} {
				for _, form := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
					got := make([]float32, n)
					im.binary(op, got, a, b, form[0], form[1])
					for i := range got {
						x, y := a[0], b[0]
						if form[0] {
							x = a[i]
						}
						if form[1] {
							y = b[i]
						}
						want := [...]float32{x + y, x - y, x * y, x / y}[op]
						if got[i] != want {
							t.Fatalf("%s op %d form %v n %d [%d]: %g, want %g", im.name, op, form, n, i, got[i], want)
						}
					}
				}
			}
		}
	}
}

// TestSqrt: bit for bit float32(math.Sqrt), NaN for negatives, on every implementation.
func TestSqrt(t *testing.T) {
	xs := testInputs()
	for _, im := range implementations() {
		got := make([]float32, len(xs))
		im.sqrt(got, xs)
		for i, x := range xs {
			want := float32(math.Sqrt(float64(x)))
			if got[i] != want && !(math.IsNaN(float64(want)) && math.IsNaN(float64(got[i]))) {
				t.Fatalf("%s: sqrt(%g) = %g, want %g", im.name, x, got[i], want)
			}
		}
	}
}

// BenchmarkSoftmaxRows: the attention-score shape of the demo teacher (rows of 128), one core.
func BenchmarkSoftmaxRows(b *testing.B) {
	const rowLen, rows = 128, 512
	rng := rand.New(rand.NewPCG(9, 10))
	src := make([]float32, rowLen*rows)
	for i := range src {
		src[i] = float32(rng.NormFloat64() * 3)
	}
	out := make([]float32, len(src))
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		SoftmaxRows(out, src, rowLen)
	}
}

// TestSoftmaxRowsNonFinite: a row holding a NaN or +Inf comes out all NaN (as a float64 softmax
// gives: the sum is NaN), in every implementation and wherever the value sits (vector body or
// tail), while the other rows stay finite.
func TestSoftmaxRowsNonFinite(t *testing.T) {
	for _, im := range implementations() {
		for _, rowLen := range []int{5, 16, 35, 128} {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
				for _, pos := range []int{0, rowLen - 1} {
					src := make([]float32, 2*rowLen)
					for i := range src {
						src[i] = float32(i%7) - 3
					}
					src[rowLen+pos] = bad
					out := make([]float32, len(src))
					im.softmaxRows(out, src, rowLen)
					for i, v := range out {
						nan := math.IsNaN(float64(v))
						if i < rowLen && (nan || v <= 0 || v >= 1) || i >= rowLen && !nan {
							t.Fatalf("%s rowLen %d, %g at %d: out[%d] = %g", im.name, rowLen, bad, pos, i, v)
						}
					}
				}
			}
		}
	}
}
