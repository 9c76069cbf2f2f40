// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

// One loop per op and operand form (gominitron patch, issue 15).

package simdf32

// BinaryOp names the elementwise float32 binary ops with vectorized loops.
type BinaryOp int

const (
	OpAdd BinaryOp = iota
	OpSub
	OpMul
	OpDiv
)

// Binary sets dst[i] = a[i] op b[i] where aStep (bStep) says whether a (b) steps through its
// slice or stays on a[0] (b[0]); dst has n = len(dst) elements.
var Binary = binaryScalar

func binaryScalar(op BinaryOp, dst, a, b []float32, aStep, bStep bool) {
	switch op {
	case OpAdd:
		switch {
		case aStep && bStep:
			a, b := a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] + b[i]
			}
		case aStep:
			a, s := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] + s
			}
		case bStep:
			s, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = s + b[i]
			}
		default:
			v := a[0] + b[0]
			for i := range dst {
				dst[i] = v
			}
		}
	case OpSub:
		switch {
		case aStep && bStep:
			a, b := a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] - b[i]
			}
		case aStep:
			a, s := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] - s
			}
		case bStep:
			s, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = s - b[i]
			}
		default:
			v := a[0] - b[0]
			for i := range dst {
				dst[i] = v
			}
		}
	case OpMul:
		switch {
		case aStep && bStep:
			a, b := a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] * b[i]
			}
		case aStep:
			a, s := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] * s
			}
		case bStep:
			s, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = s * b[i]
			}
		default:
			v := a[0] * b[0]
			for i := range dst {
				dst[i] = v
			}
		}
	case OpDiv:
		switch {
		case aStep && bStep:
			a, b := a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] / b[i]
			}
		case aStep:
			a, s := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] / s
			}
		case bStep:
			s, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = s / b[i]
			}
		default:
			v := a[0] / b[0]
			for i := range dst {
				dst[i] = v
			}
		}
	}
}
