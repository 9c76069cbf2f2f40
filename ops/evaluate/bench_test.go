package evaluate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
)

func tinyConfig() *llm.Config {
	return &llm.Config{ModelType: "llama", VocabSize: 96, Hidden: 32, FFN: 48, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 8, MaxPositions: 64, RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 1e4, Rope: llm.RopeScaling{Type: "default"}}
}

func TestBenchTinyRandomModel(t *testing.T) {
	cfg := tinyConfig()
	w, err := llm.InitWeights(cfg, dtypes.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := llm.NewRunner(testBackend(t), w)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Bench(r, BenchOptions{Shape: "tiny", Batch: 2, InputLen: 8, OutputLen: 24, Repeats: 1}) // 23 decode steps: well above timing noise on a loaded machine
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
