// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package simdf32

import (
	"math"
	"simd/archsimd"
)

func init() {
	if archsimd.X86.AVX512() {
		Exp = expAVX512
		Logistic = logisticAVX512
		MaxRows = maxRowsAVX512
		SumRows = sumRowsAVX512
		SoftmaxRows = softmaxRowsAVX512
		Sqrt = sqrtAVX512
	}
}

// Cephes expf: x = n·ln2 + g, |g| ≤ ln2/2, e^g by a degree-7 polynomial, times 2^n by
// VSCALEFPS (which overflows to +Inf and underflows through the subnormals to 0 like e^x).
// Maximum relative error ≈ 2 ulp against math.Exp rounded to float32 (TestExp).
const (
	expClampHi = 89.0   // e^89 > MaxFloat32: VSCALEFPS returns +Inf
	expClampLo = -104.0 // e^-104 < the smallest subnormal: 0
	log2E      = 1.44269504088896341
	ln2Hi      = 0.693359375
	ln2Lo      = -2.12194440e-4
	p7         = 1.9875691500e-4
	p6         = 1.3981999507e-3
	p5         = 8.3334519073e-3
	p4         = 4.1665795894e-2
	p3         = 1.6666665459e-1
	p2         = 5.0000001201e-1
)

// exp16 is e^x for 16 lanes; NaN lanes stay NaN.
func exp16(x archsimd.Float32x16) archsimd.Float32x16 {
	nan := x.IsNaN()
	xc := x.Max(archsimd.BroadcastFloat32x16(expClampLo)).Min(archsimd.BroadcastFloat32x16(expClampHi))
	n := xc.Mul(archsimd.BroadcastFloat32x16(log2E)).RoundToEvenScaled(0)
	g := n.MulAdd(archsimd.BroadcastFloat32x16(-ln2Hi), xc)
	g = n.MulAdd(archsimd.BroadcastFloat32x16(-ln2Lo), g)
	p := archsimd.BroadcastFloat32x16(p7)
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p6))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p5))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p4))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p3))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x16(p2))
	one := archsimd.BroadcastFloat32x16(1)
	e := p.Mul(g.Mul(g)).Add(g).Add(one) // 1 + g + g²·P(g)
	return x.Merge(e.Scale(n), nan)
}

func expAVX512(dst, src []float32) {
	dst = dst[:len(src)]
	i := 0
	for ; i+16 <= len(src); i += 16 {
		exp16(archsimd.LoadFloat32x16Slice(src[i:])).StoreSlice(dst[i:])
	}
	if i < len(src) {
		exp16(archsimd.LoadFloat32x16SlicePart(src[i:])).StoreSlicePart(dst[i:])
	}
}

// logistic16 is 1/(1+e^-x) for x ≥ 0 and e^x/(1+e^x) for x < 0 (so that it reaches the
// subnormals like the generic op), from e = e^-|x|; NaN lanes stay NaN.
func logistic16(x archsimd.Float32x16) archsimd.Float32x16 {
	zero, one := archsimd.BroadcastFloat32x16(0), archsimd.BroadcastFloat32x16(1)
	e := exp16(x.Min(zero.Sub(x))) // e^-|x|
	num := e.Merge(one, x.Less(zero))
	return num.Div(one.Add(e))
}

func logisticAVX512(dst, src []float32) {
	dst = dst[:len(src)]
	i := 0
	for ; i+16 <= len(src); i += 16 {
		logistic16(archsimd.LoadFloat32x16Slice(src[i:])).StoreSlice(dst[i:])
	}
	if i < len(src) {
		logistic16(archsimd.LoadFloat32x16SlicePart(src[i:])).StoreSlicePart(dst[i:])
	}
}

func maxRowsAVX512(dst, src []float32, rowLen int) {
	if rowLen < 32 {
		maxRowsScalar(dst, src, rowLen)
		return
	}
	negInf := float32(math.Inf(-1))
	for r := range dst {
		row := src[r*rowLen : (r+1)*rowLen]
		m0 := archsimd.BroadcastFloat32x16(negInf)
		m1 := m0
		var nan archsimd.Mask32x16
		i := 0
		for ; i+32 <= len(row); i += 32 {
			v0 := archsimd.LoadFloat32x16Slice(row[i:])
			v1 := archsimd.LoadFloat32x16Slice(row[i+16:])
			nan = nan.Or(v0.IsNaN()).Or(v1.IsNaN())
			m0 = m0.Max(v0)
			m1 = m1.Max(v1)
		}
		var lanes [16]float32
		m0.Max(m1).Store(&lanes)
		m := negInf
		for _, v := range lanes {
			m = max(m, v)
		}
		for _, v := range row[i:] {
			m = max(m, v)
		}
		if nan.ToBits() != 0 {
			m = float32(math.NaN())
		}
		dst[r] = m
	}
}

func sumRowsAVX512(dst, src []float32, rowLen int) {
	if rowLen < 32 {
		sumRowsScalar(dst, src, rowLen)
		return
	}
	for r := range dst {
		row := src[r*rowLen : (r+1)*rowLen]
		var s0, s1 archsimd.Float32x16
		i := 0
		for ; i+32 <= len(row); i += 32 {
			s0 = s0.Add(archsimd.LoadFloat32x16Slice(row[i:]))
			s1 = s1.Add(archsimd.LoadFloat32x16Slice(row[i+16:]))
		}
		var lanes [16]float32
		s0.Add(s1).Store(&lanes)
		var s float32
		for _, v := range lanes {
			s += v
		}
		for _, v := range row[i:] {
			s += v
		}
		dst[r] = s
	}
}

func softmaxRowsAVX512(dst, src []float32, rowLen int) {
	if rowLen < 16 {
		softmaxRowsScalar(dst, src, rowLen)
		return
	}
	// Per row: a vector max, exp(x - max) stored and summed, a vector multiply by 1/sum; the
	// horizontal max and sum are vector folds (a 128-long row is 8 vectors: scalar loops over
	// the lanes cost as much as the row). A NaN (or +Inf) in a row makes its sum NaN, so the
	// whole row comes out NaN whatever the max picked, as in the scalar version.
	vecEnd := rowLen &^ 15
	for r := range len(src) / rowLen {
		row, out := src[r*rowLen:(r+1)*rowLen], dst[r*rowLen:(r+1)*rowLen]
		mv := archsimd.LoadFloat32x16Slice(row)
		for i := 16; i < vecEnd; i += 16 {
			mv = mv.Max(archsimd.LoadFloat32x16Slice(row[i:]))
		}
		m8 := mv.GetHi().Max(mv.GetLo())
		m4 := m8.GetHi().Max(m8.GetLo())
		m := max(m4.GetElem(0), m4.GetElem(1), m4.GetElem(2), m4.GetElem(3))
		for _, v := range row[vecEnd:] {
			m = max(m, v)
		}
		mb := archsimd.BroadcastFloat32x16(m)
		var s archsimd.Float32x16
		for i := 0; i < vecEnd; i += 16 {
			e := exp16(archsimd.LoadFloat32x16Slice(row[i:]).Sub(mb))
			e.StoreSlice(out[i:])
			s = s.Add(e)
		}
		s8 := s.GetHi().Add(s.GetLo())
		s4 := s8.GetHi().Add(s8.GetLo())
		s4 = s4.AddPairs(s4)
		sum := s4.GetElem(0) + s4.GetElem(1)
		if vecEnd < rowLen {
			// The padding lanes would be exp(0 - max): the tail is summed from out.
			exp16(archsimd.LoadFloat32x16SlicePart(row[vecEnd:]).Sub(mb)).StoreSlicePart(out[vecEnd:])
			for _, v := range out[vecEnd:] {
				sum += v
			}
		}
		inv := 1 / sum
		ib := archsimd.BroadcastFloat32x16(inv)
		for j := 0; j < vecEnd; j += 16 {
			archsimd.LoadFloat32x16Slice(out[j:]).Mul(ib).StoreSlice(out[j:])
		}
		for j := vecEnd; j < rowLen; j++ {
			out[j] *= inv
		}
	}
}

func sqrtAVX512(dst, src []float32) {
	dst = dst[:len(src)]
	i := 0
	for ; i+16 <= len(src); i += 16 {
		archsimd.LoadFloat32x16Slice(src[i:]).Sqrt().StoreSlice(dst[i:])
	}
	sqrtScalar(dst[i:], src[i:])
}
