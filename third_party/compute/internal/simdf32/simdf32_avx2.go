// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package simdf32

import (
	"math"
	"simd/archsimd"
)

// The AVX2 (+FMA) versions, for CPUs without AVX-512 (most laptops before 2023): 8 lanes; the
// exp builds 2ⁿ from exponent bits, so blocks with a lane outside [expFastLo, expFastHi]
// (overflow, subnormal results, ±Inf, NaN) go through math.Exp lane by lane.

func init() {
	if !archsimd.X86.AVX512() && archsimd.X86.AVX2() && archsimd.X86.FMA() {
		Exp = expAVX2
		Logistic = logisticAVX2
		MaxRows = maxRowsAVX2
		SumRows = sumRowsAVX2
		SoftmaxRows = softmaxRowsAVX2
		Binary = binaryAVX2
		Sqrt = sqrtAVX2
	}
}

const (
	expFastHi = 88.0  // 2^127 · e^(ln2/2) < MaxFloat32
	expFastLo = -87.0 // results stay normal (≥ 2^-126)
)

// exp8 is e^x for lanes in [expFastLo, expFastHi]; ok reports whether every lane was.
func exp8(x archsimd.Float32x8) (e archsimd.Float32x8, ok bool) {
	out := x.Less(archsimd.BroadcastFloat32x8(expFastLo)).Or(x.Greater(archsimd.BroadcastFloat32x8(expFastHi))).Or(x.NotEqual(x))
	if out.ToBits() != 0 {
		return x, false
	}
	n := x.Mul(archsimd.BroadcastFloat32x8(log2E)).RoundToEven()
	g := n.MulAdd(archsimd.BroadcastFloat32x8(-ln2Hi), x)
	g = n.MulAdd(archsimd.BroadcastFloat32x8(-ln2Lo), g)
	p := archsimd.BroadcastFloat32x8(p7)
	p = p.MulAdd(g, archsimd.BroadcastFloat32x8(p6))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x8(p5))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x8(p4))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x8(p3))
	p = p.MulAdd(g, archsimd.BroadcastFloat32x8(p2))
	poly := p.Mul(g.Mul(g)).Add(g).Add(archsimd.BroadcastFloat32x8(1))
	scale := n.ConvertToInt32().Add(archsimd.BroadcastInt32x8(127)).ShiftAllLeft(23).AsFloat32x8()
	return poly.Mul(scale), true
}

func expAVX2(dst, src []float32) {
	dst = dst[:len(src)]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		if e, ok := exp8(archsimd.LoadFloat32x8Slice(src[i:])); ok {
			e.StoreSlice(dst[i:])
		} else {
			expScalar(dst[i:i+8], src[i:i+8])
		}
	}
	expScalar(dst[i:], src[i:])
}

func logisticAVX2(dst, src []float32) {
	dst = dst[:len(src)]
	zero, one := archsimd.BroadcastFloat32x8(0), archsimd.BroadcastFloat32x8(1)
	i := 0
	for ; i+8 <= len(src); i += 8 {
		x := archsimd.LoadFloat32x8Slice(src[i:])
		e, ok := exp8(x.Min(zero.Sub(x))) // e^-|x|
		if !ok {
			logisticScalar(dst[i:i+8], src[i:i+8])
			continue
		}
		e.Merge(one, x.Less(zero)).Div(one.Add(e)).StoreSlice(dst[i:])
	}
	logisticScalar(dst[i:], src[i:])
}

func maxRowsAVX2(dst, src []float32, rowLen int) {
	if rowLen < 16 {
		maxRowsScalar(dst, src, rowLen)
		return
	}
	negInf := float32(math.Inf(-1))
	for r := range dst {
		row := src[r*rowLen : (r+1)*rowLen]
		m0 := archsimd.BroadcastFloat32x8(negInf)
		m1 := m0
		var nan uint8
		i := 0
		for ; i+16 <= len(row); i += 16 {
			v0, v1 := archsimd.LoadFloat32x8Slice(row[i:]), archsimd.LoadFloat32x8Slice(row[i+8:])
			nan |= v0.NotEqual(v0).Or(v1.NotEqual(v1)).ToBits()
			m0, m1 = m0.Max(v0), m1.Max(v1)
		}
		var lanes [8]float32
		m0.Max(m1).Store(&lanes)
		m := negInf
		for _, v := range lanes {
			m = max(m, v)
		}
		for _, v := range row[i:] {
			m = max(m, v)
		}
		if nan != 0 {
			m = float32(math.NaN())
		}
		dst[r] = m
	}
}

func sumRowsAVX2(dst, src []float32, rowLen int) {
	if rowLen < 16 {
		sumRowsScalar(dst, src, rowLen)
		return
	}
	for r := range dst {
		row := src[r*rowLen : (r+1)*rowLen]
		var s0, s1 archsimd.Float32x8
		i := 0
		for ; i+16 <= len(row); i += 16 {
			s0 = s0.Add(archsimd.LoadFloat32x8Slice(row[i:]))
			s1 = s1.Add(archsimd.LoadFloat32x8Slice(row[i+8:]))
		}
		var lanes [8]float32
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

func softmaxRowsAVX2(dst, src []float32, rowLen int) {
	if rowLen < 8 {
		softmaxRowsScalar(dst, src, rowLen)
		return
	}
	var maxOne [1]float32
	for r := range len(src) / rowLen {
		row, out := src[r*rowLen:(r+1)*rowLen], dst[r*rowLen:(r+1)*rowLen]
		maxRowsAVX2(maxOne[:], row, rowLen)
		m := maxOne[0]
		mv := archsimd.BroadcastFloat32x8(m)
		var sum float32
		i := 0
		for ; i+8 <= rowLen; i += 8 {
			d := archsimd.LoadFloat32x8Slice(row[i:]).Sub(mv)
			e, ok := exp8(d)
			if !ok { // masked (-Inf) or far-below-max positions, NaN rows
				var lanes [8]float32
				d.Store(&lanes)
				expScalar(lanes[:], lanes[:])
				e = archsimd.LoadFloat32x8(&lanes)
			}
			e.StoreSlice(out[i:])
		}
		for j := i; j < rowLen; j++ {
			out[j] = float32(math.Exp(float64(row[j] - m)))
		}
		for _, v := range out {
			sum += v
		}
		inv := 1 / sum
		for j := range out {
			out[j] *= inv
		}
	}
}

func binaryAVX2(op BinaryOp, dst, a, b []float32, aStep, bStep bool) {
	n := len(dst)
	if n < 8 || !aStep && !bStep {
		binaryScalar(op, dst, a, b, aStep, bStep)
		return
	}
	load := func(s []float32, i int, step bool) archsimd.Float32x8 {
		if step {
			return archsimd.LoadFloat32x8Slice(s[i:])
		}
		return archsimd.BroadcastFloat32x8(s[0])
	}
	i := 0
	for ; i+8 <= n; i += 8 {
		x, y := load(a, i, aStep), load(b, i, bStep)
		var z archsimd.Float32x8
		switch op {
		case OpAdd:
			z = x.Add(y)
		case OpSub:
			z = x.Sub(y)
		case OpMul:
			z = x.Mul(y)
		default:
			z = x.Div(y)
		}
		z.StoreSlice(dst[i:])
	}
	if i < n {
		ta, tb := a, b
		if aStep {
			ta = a[i:]
		}
		if bStep {
			tb = b[i:]
		}
		binaryScalar(op, dst[i:], ta, tb, aStep, bStep)
	}
}

func sqrtAVX2(dst, src []float32) {
	dst = dst[:len(src)]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		archsimd.LoadFloat32x8Slice(src[i:]).Sqrt().StoreSlice(dst[i:])
	}
	sqrtScalar(dst[i:], src[i:])
}
