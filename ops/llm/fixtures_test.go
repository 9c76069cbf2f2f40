package llm

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/safetensors"
)

// fixtureNames are the model fixtures in testdata/hf (Hugging Face references).
var fixtureNames = []string{"dev-llama-gqa", "dev-llama3-headdim-tied-bf16", "dev-qwen2-bias"}

func fixtureDir(name string) string { return filepath.Join("..", "..", "testdata", "hf", name) }

// testBackend returns the Go backend (GOMLX_BACKEND=go is set if unset).
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	b, err := compute.New()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}

// readSafetensorsFile reads every tensor of a safetensors file: floats as
// float32, integers as int32.
func readSafetensorsFile(t testing.TB, path string) map[string]*tensors.Tensor {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*tensors.Tensor{}
	for _, name := range f.Names() {
		info, _ := f.Info(name)
		dtype := dtypes.Float32
		if !info.DType.IsFloat() {
			dtype = dtypes.Int32
		}
		if out[name], err = f.Tensor(name, dtype); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// fixture is one model fixture loaded for tests.
type fixture struct {
	name    string
	cfg     *Config
	weights map[string]*tensors.Tensor // float32
	ref     map[string]*tensors.Tensor
}

func loadFixture(t testing.TB, name string) *fixture {
	t.Helper()
	dir := fixtureDir(name)
	return &fixture{
		name:    name,
		cfg:     mustLoadConfig(t, dir),
		weights: readSafetensorsFile(t, filepath.Join(dir, "model.safetensors")),
		ref:     readSafetensorsFile(t, filepath.Join(dir, "reference.safetensors")),
	}
}

func mustLoadConfig(t testing.TB, dir string) *Config {
	t.Helper()
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (f *fixture) weightNames() []string {
	names := make([]string, 0, len(f.weights))
	for n := range f.weights {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
