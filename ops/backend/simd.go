package backend

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"golang.org/x/sys/cpu"
)

// SIMDFix is the one-line fix printed when the binary lacks GoMLX's SIMD kernels.
const SIMDFix = "rebuild with GOEXPERIMENT=simd, e.g. GOEXPERIMENT=simd go build -o bin/gominitron ./cmd/gominitron (scripts/ and kernel/ set it)"

// SIMDWarning returns a loud one-line warning when the Go backend runs from a
// binary built without GOEXPERIMENT=simd on a CPU that has AVX2 or AVX-512
// (GoMLX's fast matmul kernels then stay off); "" otherwise.
func SIMDWarning(b compute.Backend) string {
	return simdWarning(isGoBackend(b), simdBuild, cpu.X86.HasAVX2, cpu.X86.HasAVX512F)
}

// isGoBackend: GoMLX's pure-Go backend (String "go", Name "Go Backend" in compute v0.1.6).
func isGoBackend(b compute.Backend) bool {
	return b != nil && (b.String() == "go" || strings.HasPrefix(strings.ToLower(b.Name()), "go"))
}

// simdWarning is SIMDWarning's decision, from whether the backend is the Go
// one, whether the binary was built with the simd experiment, and the CPU's features.
func simdWarning(goBackend, simdBuilt, hasAVX2, hasAVX512 bool) string {
	if !goBackend || simdBuilt || (!hasAVX2 && !hasAVX512) {
		return ""
	}
	features := "AVX2"
	if hasAVX512 {
		features = "AVX-512"
	}
	return fmt.Sprintf("gominitron: WARNING: this binary was built without GOEXPERIMENT=simd, so the Go backend "+
		"leaves this CPU's %s matmul kernels off (several times slower) — %s", features, SIMDFix)
}
