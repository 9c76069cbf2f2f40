package llm

import (
	"errors"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// hostOnlyBackend is the Go backend as a backend without shared buffers
// (as XLA is): LoadModelOnDevice's read-then-move branch.
type hostOnlyBackend struct{ compute.Backend }

func (hostOnlyBackend) HasSharedBuffers() bool { return false }

// TestLoadModelOnDevice: loading straight onto the device gives bit-identical
// weights to LoadModelForCompute, in the same dtypes, on both branches (the
// Go backend's shared buffers, each weight converted into its device
// buffer; a backend without them, each tensor read then moved), and refuses
// a non-finite weight by name as the host loaders do.
func TestLoadModelOnDevice(t *testing.T) {
	goBackend := testBackend(t)
	backends := []struct {
		name   string
		be     compute.Backend
		shared bool
	}{{"go (shared buffers)", goBackend, true}, {"no shared buffers", hostOnlyBackend{goBackend}, false}}
	for _, fixture := range []string{"dev-llama-gqa", "dev-llama3-headdim-tied-bf16", "dev-qwen2-bias"} {
		for _, compute := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
			want, err := LoadModelForCompute(hfFixture(fixture), compute)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range backends {
				got, err := LoadModelOnDevice(hfFixture(fixture), compute, b.be)
				if err != nil {
					t.Fatalf("%s, %s, %s: %v", fixture, compute, b.name, err)
				}
				for name, w := range got.Weights {
					if w.IsShared() != b.shared || !w.IsOnDevice(0) {
						t.Errorf("%s, %s, %s: %s shared=%v on device=%v, want shared=%v on the device",
							fixture, compute, b.name, name, w.IsShared(), w.IsOnDevice(0), b.shared)
					}
					if w.DType() != want.Weights[name].DType() {
						t.Errorf("%s, %s, %s: %s is %s, LoadModelForCompute gives %s", fixture, compute, b.name, name, w.DType(), want.Weights[name].DType())
					}
				}
				sameWeights(t, fixture+" "+compute.String()+" "+b.name, want.Weights, got.Weights)
			}
		}
	}
	if _, err := LoadModelOnDevice(hfFixture("dev-llama-gqa"), dtypes.Float32, nil); err == nil {
		t.Error("nil backend: no error")
	}
	dir := fixtures.WithNonFinite(t, "dev-llama-gqa", "model.layers.1.mlp.down_proj.weight", 7, fixtures.NaN)
	for _, b := range backends {
		_, err := LoadModelOnDevice(dir, dtypes.Float32, b.be)
		if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `weight "model.layers.1.mlp.down_proj.weight" [64 176]: element 7 is NaN`) {
			t.Errorf("%s: NaN weight: err = %v", b.name, err)
		}
	}
}
