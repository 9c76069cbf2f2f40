// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

//go:build amd64 && goexperiment.simd

package simdf32

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX512() {
		Binary = binaryAVX512
	}
}

func binaryAVX512(op BinaryOp, dst, a, b []float32, aStep, bStep bool) {
	n := len(dst)
	if n < 16 || !aStep && !bStep {
		binaryScalar(op, dst, a, b, aStep, bStep)
		return
	}
	i := 0
	switch op {
	case OpAdd:
		switch {
		case aStep && bStep:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Add(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		case aStep:
			s := archsimd.BroadcastFloat32x16(b[0])
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Add(s).StoreSlice(dst[i:])
			}
		default:
			s := archsimd.BroadcastFloat32x16(a[0])
			for ; i+16 <= n; i += 16 {
				s.Add(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		}
	case OpSub:
		switch {
		case aStep && bStep:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Sub(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		case aStep:
			s := archsimd.BroadcastFloat32x16(b[0])
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Sub(s).StoreSlice(dst[i:])
			}
		default:
			s := archsimd.BroadcastFloat32x16(a[0])
			for ; i+16 <= n; i += 16 {
				s.Sub(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		}
	case OpMul:
		switch {
		case aStep && bStep:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Mul(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		case aStep:
			s := archsimd.BroadcastFloat32x16(b[0])
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Mul(s).StoreSlice(dst[i:])
			}
		default:
			s := archsimd.BroadcastFloat32x16(a[0])
			for ; i+16 <= n; i += 16 {
				s.Mul(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		}
	case OpDiv:
		switch {
		case aStep && bStep:
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Div(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		case aStep:
			s := archsimd.BroadcastFloat32x16(b[0])
			for ; i+16 <= n; i += 16 {
				archsimd.LoadFloat32x16Slice(a[i:]).Div(s).StoreSlice(dst[i:])
			}
		default:
			s := archsimd.BroadcastFloat32x16(a[0])
			for ; i+16 <= n; i += 16 {
				s.Div(archsimd.LoadFloat32x16Slice(b[i:])).StoreSlice(dst[i:])
			}
		}
	}
	if i < n { // the tail
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
