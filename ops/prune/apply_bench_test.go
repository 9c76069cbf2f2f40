package prune

import (
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// BenchmarkApply prunes a synthetic 40M-parameter bf16 model (8 layers,
// hidden 512, 8/4 heads, ffn 2048, vocab 8000) to about half its size.
func BenchmarkApply(b *testing.B) {
	cfg := testConfig()
	cfg.VocabSize, cfg.Hidden, cfg.FFN, cfg.NumLayers = 8000, 512, 2048, 8
	cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim, cfg.TorchDType = 8, 4, 64, "bfloat16"
	m := &llm.Model{Config: cfg, Weights: map[string]*tensors.Tensor{}}
	for name, dims := range cfg.TensorShapes() {
		m.Weights[name] = tensors.FromShape(shapes.Make(dtypes.BFloat16, dims...))
	}
	imp := testScores(cfg)
	p := Plan{Hidden: 384, FFN: 1024, HeadsPerGroup: 1, Layers: 6}
	b.SetBytes(cfg.WeightBytes(dtypes.BFloat16))
	for b.Loop() {
		if _, err := Apply(m, p, imp); err != nil {
			b.Fatal(err)
		}
	}
}
