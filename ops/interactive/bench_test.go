package interactive

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/results"
)

// BenchmarkEvaluateTeacherShape measures one slider move (Evaluate) on a
// random model of a CPU demo-teacher-like shape with the notebook's cpu-scale
// held-out batch (8 × 128 tokens). The target is about a second per move.
func BenchmarkEvaluateTeacherShape(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  llm.Config
	}{
		{"L6-h128-f384-v2048", llm.Config{NumLayers: 6, Hidden: 128, FFN: 384, NumHeads: 4, NumKVHeads: 2, HeadDim: 32, VocabSize: 2048}},
		{"L8-h256-f768-v8192", llm.Config{NumLayers: 8, Hidden: 256, FFN: 768, NumHeads: 8, NumKVHeads: 4, HeadDim: 32, VocabSize: 8192}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.ModelType, cfg.HiddenAct, cfg.MaxPositions, cfg.RMSNormEps, cfg.RopeTheta = "llama", "silu", 256, 1e-5, 10000
			cfg.TieEmbeddings = true
			cfg.Rope.Type = "default"
			m, err := llm.InitWeights(&cfg, dtypes.Float32, 1)
			if err != nil {
				b.Fatal(err)
			}
			be, err := backend.New()
			if err != nil {
				b.Fatal(err)
			}
			imp := randomScores(&cfg)
			rng := rand.New(rand.NewPCG(1, 2))
			ids := make([][]int32, 8)
			for i := range ids {
				ids[i] = make([]int32, 128)
				for j := range ids[i] {
					ids[i][j] = int32(rng.IntN(cfg.VocabSize))
				}
			}
			e, err := New(be, m, imp, ids, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			plans := []prune.Plan{{FFN: cfg.FFN / 2}, {Hidden: cfg.Hidden * 3 / 4, HeadsPerGroup: 1}, {Layers: cfg.NumLayers - 2}}
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, err := e.Evaluate(plans[i%len(plans)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(e.Compilations()), "compilations")
		})
	}
}

// randomScores are valid importance scores of cfg's shape.
func randomScores(cfg *llm.Config) *results.Importance {
	rng := rand.New(rand.NewPCG(3, 4))
	vec := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.Float64()
		}
		return v
	}
	imp := &results.Importance{Hidden: vec(cfg.Hidden), BI: vec(cfg.NumLayers), DropOneLMLoss: vec(cfg.NumLayers), LMLoss: 1, Model: fmt.Sprint(cfg.NumLayers)}
	for range cfg.NumLayers {
		imp.FFN = append(imp.FFN, vec(cfg.FFN))
		imp.Heads = append(imp.Heads, vec(cfg.NumHeads))
	}
	return imp
}
