package backend

import (
	"os"
	"strings"
	"testing"
)

func TestSIMDWarningDecision(t *testing.T) {
	cases := []struct {
		name                        string
		goBackend                   bool
		simdBuilt, avx2, avx512     bool
		wantWarning, wantFeatureStr string
	}{
		{"go, no simd build, AVX-512", true, false, true, true, "WARNING", "AVX-512"},
		{"go, no simd build, AVX2 only", true, false, true, false, "WARNING", "AVX2"},
		{"simd build", true, true, true, true, "", ""},
		{"CPU without AVX2", true, false, false, false, "", ""},
		{"XLA backend", false, false, true, true, "", ""},
	}
	for _, c := range cases {
		got := simdWarning(c.goBackend, c.simdBuilt, c.avx2, c.avx512)
		if c.wantWarning == "" {
			if got != "" {
				t.Errorf("%s: warning %q, want none", c.name, got)
			}
			continue
		}
		for _, want := range []string{c.wantWarning, c.wantFeatureStr, "GOEXPERIMENT=simd go build"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: warning %q lacks %q", c.name, got, want)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("%s: warning %q is not one line", c.name, got)
		}
	}
}

// TestIsGoBackend: the Go backend is recognised as opened by this package.
func TestIsGoBackend(t *testing.T) {
	b, _, err := open(Choice{Config: "go", Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !isGoBackend(b) {
		t.Errorf("backend %q (%q) not recognised as the Go backend", b.Name(), b.String())
	}
	if isGoBackend(nil) {
		t.Error("nil recognised as the Go backend")
	}
}

// TestSIMDBuildTag: the build-tagged constant follows the GOEXPERIMENT this
// test binary was built with (go test passes its environment on).
func TestSIMDBuildTag(t *testing.T) {
	exp, ok := os.LookupEnv("GOEXPERIMENT")
	if !ok {
		t.Skip("GOEXPERIMENT not in the environment: cannot tell how this binary was built")
	}
	want := false
	for _, e := range strings.Split(exp, ",") {
		switch strings.TrimSpace(e) {
		case "simd":
			want = true
		case "nosimd":
			want = false
		}
	}
	if simdBuild != want {
		t.Errorf("simdBuild = %v, but GOEXPERIMENT=%q", simdBuild, exp)
	}
}
