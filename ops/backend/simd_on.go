//go:build goexperiment.simd

package backend

// simdBuild: built with GOEXPERIMENT=simd (GoMLX's AVX2/AVX-512 kernels linked in).
const simdBuild = true
