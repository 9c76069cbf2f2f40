package llm

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// bf16Tolerance bounds bfloat16 compute vs. the float32 reference, relative
// to max |ref| (bf16 has an 8-bit mantissa: ~0.4% per rounding).
const bf16Tolerance = 0.05

// TestLoadModelRunnerMatchesReference: LoadModel (float32 from any on-disk
// dtype) → NewRunner → Forward reproduces every fixture.
func TestLoadModelRunnerMatchesReference(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			_, r := loadRunner(t, fixtureDir(name), dtypes.Float32)
			ref := readSafetensorsFile(t, filepath.Join(fixtureDir(name), "reference.safetensors"))
			out, err := r.Forward(ref["input_ids"], nil)
			if err != nil {
				t.Fatal(err)
			}
			fixtures.CompareToReference(t, "logits", out.Logits, ref["logits"], relTolerance, Argmax)
			for l, h := range out.Hidden {
				key := fmt.Sprintf("hidden_states.%d", l)
				fixtures.CompareToReference(t, key, h, ref[key], relTolerance, nil)
			}
		})
	}
}

// TestSaveLoadIdenticalLogits: SaveModel → LoadModel gives bit-identical
// logits (float32 on disk), also for a sharded save.
func TestSaveLoadIdenticalLogits(t *testing.T) {
	backend := testBackend(t)
	for _, name := range fixtureNames {
		for _, shard := range []int64{0, 50_000} {
			t.Run(fmt.Sprintf("%s/shard=%d", name, shard), func(t *testing.T) {
				m, err := LoadModel(fixtureDir(name), dtypes.Float32)
				if err != nil {
					t.Fatal(err)
				}
				dir := filepath.Join(t.TempDir(), "saved")
				if err := SaveModel(dir, m, SaveOptions{DType: dtypes.Float32, ShardBytes: shard}); err != nil {
					t.Fatal(err)
				}
				m2, err := LoadModel(dir, dtypes.Float32)
				if err != nil {
					t.Fatal(err)
				}
				ref := readSafetensorsFile(t, filepath.Join(fixtureDir(name), "reference.safetensors"))
				logitsOf := func(m *Model) []float32 {
					r, err := NewRunner(backend, m)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					out, err := r.Forward(ref["input_ids"], nil)
					if err != nil {
						t.Fatal(err)
					}
					return tensors.MustCopyFlatData[float32](out.Logits)
				}
				if a, b := logitsOf(m), logitsOf(m2); !slices.Equal(a, b) {
					t.Errorf("logits differ after save → load")
				}
			})
		}
	}
}

// TestStoreRoundTrip: ToStore → ModelFromStore returns the same weights;
// missing variables and wrong shapes are errors naming the tensor.
func TestStoreRoundTrip(t *testing.T) {
	m, err := LoadModel(fixtureDir("dev-llama3-headdim-tied-bf16"), dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := m.ToStore(store, "/teacher"); err != nil {
		t.Fatal(err)
	}
	if err := m.ToStore(store, "/teacher"); err == nil {
		t.Errorf("ToStore twice into the same scope: no error")
	}
	back, err := ModelFromStore(m.Config, store, "/teacher")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Weights) != len(m.Weights) {
		t.Errorf("%d weights back, want %d", len(back.Weights), len(m.Weights))
	}
	for n, w := range m.Weights {
		if !slices.Equal(tensors.MustCopyFlatData[float32](w), tensors.MustCopyFlatData[float32](back.Weights[n])) {
			t.Errorf("weight %s differs after the store round trip", n)
		}
	}
	if _, err := ModelFromStore(m.Config, store, "/student"); err == nil || !strings.Contains(err.Error(), "/student/") {
		t.Errorf("empty scope: error %v, want one naming the missing variable", err)
	}
	bigger := *m.Config
	bigger.FFN++
	if _, err := ModelFromStore(&bigger, store, "/teacher"); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong FFN size: error %v, want a shape error", err)
	}
	broken := &Model{Config: m.Config, Weights: map[string]*tensors.Tensor{}}
	if err := broken.ToStore(model.NewStore(), DefaultScope); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ToStore of a model without weights: error %v", err)
	}
}

// TestBFloat16Compute: weights loaded as bfloat16 and computed in bfloat16
// stay close to the float32 reference (sanity of the reduced-precision path).
func TestBFloat16Compute(t *testing.T) {
	name := "dev-llama3-headdim-tied-bf16"
	_, r := loadRunner(t, fixtureDir(name), dtypes.BFloat16)
	r.WithDType(dtypes.BFloat16)
	ref := readSafetensorsFile(t, filepath.Join(fixtureDir(name), "reference.safetensors"))
	out, err := r.Forward(ref["input_ids"], nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Logits.DType() != dtypes.Float32 {
		t.Errorf("logits dtype %s, want float32", out.Logits.DType())
	}
	g, want := tensors.MustCopyFlatData[float32](out.Logits), tensors.MustCopyFlatData[float32](ref["logits"])
	var maxErr, maxRef float64
	for i := range want {
		maxErr = max(maxErr, abs64(float64(g[i]-want[i])))
		maxRef = max(maxRef, abs64(float64(want[i])))
	}
	t.Logf("bf16 compute: max abs logits error %.3g (max|ref| %.3g)", maxErr, maxRef)
	if !(maxErr <= bf16Tolerance*maxRef) {
		t.Errorf("bf16 compute: max abs error %.3g > %g × %.3g", maxErr, bf16Tolerance, maxRef)
	}
	gen, err := r.Generate([][]int32{{1, 2, 3}}, GenerateOptions{MaxNewTokens: 4})
	if err != nil || len(gen[0]) != 7 {
		t.Errorf("bf16 generate: %v %v", gen, err)
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestModelCloneIsIndependent(t *testing.T) {
	cfg := &Config{ModelType: "llama", VocabSize: 8, Hidden: 4, FFN: 6, NumLayers: 1, NumHeads: 2, NumKVHeads: 1, HeadDim: 2,
		MaxPositions: 16, RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 10000, TieEmbeddings: true}
	m := &Model{Config: cfg, Weights: map[string]*tensors.Tensor{}}
	for name, shape := range cfg.TensorShapes() {
		m.Weights[name] = tensors.FromShape(shapes.Make(dtypes.Float32, shape...))
	}
	c, err := m.Clone()
	if err != nil {
		t.Fatal(err)
	}
	tensors.MustMutableFlatData[float32](c.Weights[EmbedTokensName], func(v []float32) { v[0] = 7 })
	if got := tensors.MustCopyFlatData[float32](m.Weights[EmbedTokensName])[0]; got != 0 {
		t.Errorf("writing the clone changed the original: %v", got)
	}
	if len(c.Weights) != len(m.Weights) {
		t.Errorf("clone has %d weights, want %d", len(c.Weights), len(m.Weights))
	}
}
