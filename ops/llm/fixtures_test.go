package llm

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// fixtureNames are the model fixtures in testdata/hf (Hugging Face references).
var fixtureNames = fixtures.Names

var fixtureDir = fixtures.Dir

func testBackend(t testing.TB) compute.Backend { return fixtures.GoBackend(t) }

var readSafetensorsFile = fixtures.ReadSafetensors

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

// forEachFixture runs test as one subtest per model fixture, on the test
// backend.
func forEachFixture(t *testing.T, test func(t *testing.T, backend compute.Backend, f *fixture)) {
	backend := testBackend(t)
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) { test(t, backend, loadFixture(t, name)) })
	}
}

// loadRunner loads the model folder dir in dtype and returns it with a
// Runner on the test backend (closed when the test ends).
func loadRunner(t testing.TB, dir string, dtype dtypes.DType) (*Model, *Runner) {
	t.Helper()
	m, err := LoadModel(dir, dtype)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(testBackend(t), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return m, r
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
	names := slices.Sorted(maps.Keys(f.weights))
	return names
}
