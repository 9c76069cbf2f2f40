package evaluate

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

func tinyConfig() *llm.Config {
	return &llm.Config{ModelType: "llama", VocabSize: 96, Hidden: 32, FFN: 48, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 8, MaxPositions: 64, RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 1e4, Rope: llm.RopeScaling{Type: "default"}}
}

func TestRandomWeights(t *testing.T) {
	cfg := tinyConfig()
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16, dtypes.Float16} {
		ma, err := RandomWeights(cfg, dt, 5)
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := RandomWeights(cfg, dt, 5)
		mc, _ := RandomWeights(cfg, dt, 6)
		a, b, c := ma.Weights, mb.Weights, mc.Weights
		if len(a) != len(cfg.TensorShapes()) {
			t.Errorf("%d tensors, the config has %d", len(a), len(cfg.TensorShapes()))
		}
		q := "model.layers.1.self_attn.q_proj.weight"
		if a[q].DType() != dt || !slices.Equal(a[q].Shape().Dimensions, []int{32, 32}) {
			t.Fatalf("%s: %s", q, a[q].Shape())
		}
		va, vb, vc := asF32(a[q]), asF32(b[q]), asF32(c[q])
		if !slices.Equal(va, vb) || slices.Equal(va, vc) {
			t.Errorf("%s: same seed must give the same weights, another seed others", dt)
		}
		var sum2 float64
		for _, v := range va {
			sum2 += float64(v) * float64(v)
			if v < -0.035 || v > 0.035 {
				t.Fatalf("%s: value %v outside ±0.02·√3", dt, v)
			}
		}
		if std := sum2 / float64(len(va)); std < 0.0002 || std > 0.0006 { // variance ≈ 0.02² = 0.0004
			t.Errorf("%s: variance %v, want ≈ 4e-4", dt, std)
		}
		if n := asF32(a["model.norm.weight"]); n[0] != 1 || n[31] != 1 {
			t.Errorf("%s: norm weights %v, want 1", dt, n)
		}
	}
}

func asF32(t *tensors.Tensor) []float32 {
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

func TestBenchTinyRandomModel(t *testing.T) {
	cfg := tinyConfig()
	w, err := RandomWeights(cfg, dtypes.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := llm.NewRunner(testBackend(t), w)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Bench(r, BenchOptions{Shape: "tiny", Batch: 2, InputLen: 8, OutputLen: 4, Repeats: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Timings of one repeat on a busy machine are noise: only their presence
	// is checked. Decode speed may be omitted, and then the note must say why.
	if res.PrefillTokensPerSec <= 0 || res.RequestsPerSec <= 0 || res.PrefillSeconds <= 0 || res.TotalSeconds <= 0 {
		t.Errorf("missing timings %+v", res)
	}
	if res.DecodeTokensPerSec <= 0 && !strings.Contains(res.Note, "decode") {
		t.Errorf("decode speed omitted without a note: %+v", res)
	}
	if res.MemorySource == "" || res.PeakMemoryBytes <= 0 {
		t.Errorf("memory %d from %q", res.PeakMemoryBytes, res.MemorySource)
	}
	if want := int64(96*32*2 + 32 + 2*(2*32+32*32*2+16*32*2+48*32*3)); res.Params != want {
		t.Errorf("params %d, want %d", res.Params, want)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	_ = json.Unmarshal(b, &back)
	for _, k := range []string{"prefill_tokens_per_sec", "decode_tokens_per_sec", "requests_per_sec", "peak_memory_bytes", "memory_source", "batch"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if _, err := Bench(r, BenchOptions{Batch: 0, InputLen: 8, OutputLen: 4}); err == nil {
		t.Error("batch 0: no error")
	}
}
