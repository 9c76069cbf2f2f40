package llm

import (
	"math"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/gomlx/core/tensors"
)

// initTestConfig is a tiny llama with attention biases, so InitWeights has
// matrices, norms and biases to fill.
func initTestConfig() *Config {
	return &Config{ModelType: "llama", VocabSize: 512, Hidden: 64, FFN: 96, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 16, MaxPositions: 64, RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 1e4, Rope: RopeScaling{Type: "default"},
		AttentionBias: true, InitializerRange: 0.05}
}

// Tolerances of the sample statistics of the 512×64 embedding (32768 draws).
const (
	initStdRelTol  = 0.03 // sample std within 3% of initializer_range
	initMeanAbsTol = 0.002
	// For a normal, P(|x| < σ) = erf(1/√2) ≈ 0.6827; a uniform with the same
	// σ gives 1/√3 ≈ 0.577, so this tells the two rules apart.
	initWithinOneSigmaTol = 0.01
)

func TestInitWeights(t *testing.T) {
	cfg := initTestConfig()
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16, dtypes.Float16} {
		t.Run(dt.String(), func(t *testing.T) {
			a, err := InitWeights(cfg, dt, 5)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := InitWeights(cfg, dt, 5)
			c, _ := InitWeights(cfg, dt, 6)
			if err := CheckWeights(cfg, a.Weights); err != nil {
				t.Fatalf("weights do not match the config: %v", err)
			}
			for name, w := range a.Weights {
				if w.DType() != dt {
					t.Fatalf("%s: dtype %s, want %s", name, w.DType(), dt)
				}
			}
			q := LayerPrefix(1) + "self_attn.q_proj.weight"
			if va, vb, vc := asFloat32s(a.Weights[q]), asFloat32s(b.Weights[q]), asFloat32s(c.Weights[q]); !slices.Equal(va, vb) || slices.Equal(va, vc) {
				t.Errorf("%s: the same seed must give the same weights, another seed others", q)
			}
			for _, x := range asFloat32s(a.Weights[LayerPrefix(0)+"post_attention_layernorm.weight"]) {
				if x != 1 {
					t.Fatalf("RMSNorm weight %v, want 1", x)
				}
			}
			for _, x := range asFloat32s(a.Weights[LayerPrefix(1)+"self_attn.k_proj.bias"]) {
				if x != 0 {
					t.Fatalf("bias %v, want 0", x)
				}
			}
			emb := asFloat32s(a.Weights[EmbedTokensName])
			var sum, sum2 float64
			within := 0
			for _, x := range emb {
				sum += float64(x)
				sum2 += float64(x) * float64(x)
				if math.Abs(float64(x)) < cfg.InitializerRange {
					within++
				}
			}
			n := float64(len(emb))
			mean, std := sum/n, math.Sqrt(sum2/n)
			if math.Abs(mean) > initMeanAbsTol {
				t.Errorf("embedding mean %.4g, want 0 ± %g", mean, initMeanAbsTol)
			}
			if math.Abs(std/cfg.InitializerRange-1) > initStdRelTol {
				t.Errorf("embedding std %.4g, want initializer_range %g", std, cfg.InitializerRange)
			}
			if frac, want := float64(within)/n, math.Erf(1/math.Sqrt2); math.Abs(frac-want) > initWithinOneSigmaTol {
				t.Errorf("%.4f of the draws within one σ, a normal has %.4f", frac, want)
			}
		})
	}
}

func TestInitWeightsRefuses(t *testing.T) {
	bad := *initTestConfig()
	bad.Hidden = 0
	for _, tc := range []struct {
		name  string
		cfg   *Config
		dtype dtypes.DType
	}{
		{"nil config", nil, dtypes.Float32},
		{"integer dtype", initTestConfig(), dtypes.Int32},
		{"zero hidden", &bad, dtypes.Float32},
	} {
		if _, err := InitWeights(tc.cfg, tc.dtype, 1); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestArgmaxArgmin(t *testing.T) {
	for _, tc := range []struct {
		xs               []float64
		wantMax, wantMin int
	}{
		{nil, 0, 0},
		{[]float64{3}, 0, 0},
		{[]float64{1, 5, 2}, 1, 0},
		{[]float64{2, 7, 7, 1, 1}, 1, 3}, // first on ties
		{[]float64{-3, -1, -2}, 1, 0},
	} {
		if got := Argmax(tc.xs); got != tc.wantMax {
			t.Errorf("Argmax(%v) = %d, want %d", tc.xs, got, tc.wantMax)
		}
		if got := Argmin(tc.xs); got != tc.wantMin {
			t.Errorf("Argmin(%v) = %d, want %d", tc.xs, got, tc.wantMin)
		}
	}
}

// mustInitWeights is InitWeights(cfg, float32, seed 1) or a fatal error.
func mustInitWeights(t testing.TB, cfg *Config) *Model {
	t.Helper()
	m, err := InitWeights(cfg, dtypes.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// asFloat32s copies a float32, bfloat16 or float16 tensor to float32 values.
func asFloat32s(t *tensors.Tensor) []float32 {
	out := make([]float32, t.Shape().Size())
	t.MustConstFlatData(func(flat any) {
		switch f := flat.(type) {
		case []float32:
			copy(out, f)
		case []bfloat16.BFloat16:
			for i, v := range f {
				out[i] = v.Float32()
			}
		case []float16.Float16:
			for i, v := range f {
				out[i] = v.Float32()
			}
		}
	})
	return out
}
