//go:build !goexperiment.simd

package backend

// simdBuild: built without GOEXPERIMENT=simd (GoMLX's AVX2/AVX-512 kernels left out).
const simdBuild = false
