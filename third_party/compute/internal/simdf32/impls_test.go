// Copyright 2023-2026 The GoMLX Authors. SPDX-License-Identifier: Apache-2.0

package simdf32

// impl is one set of kernels; the tests run every set the CPU can run.
type impl struct {
	name        string
	exp         func(dst, src []float32)
	logistic    func(dst, src []float32)
	maxRows     func(dst, src []float32, rowLen int)
	sumRows     func(dst, src []float32, rowLen int)
	softmaxRows func(dst, src []float32, rowLen int)
	binary      func(op BinaryOp, dst, a, b []float32, aStep, bStep bool)
	sqrt        func(dst, src []float32)
}

var scalarImpl = impl{"scalar", expScalar, logisticScalar, maxRowsScalar, sumRowsScalar, softmaxRowsScalar, binaryScalar, sqrtScalar}

// implementations: the scalar set, plus the vector sets (implsSIMD) in GOEXPERIMENT=simd builds.
func implementations() []impl { return append([]impl{scalarImpl}, implsSIMD()...) }
