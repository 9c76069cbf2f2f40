package llm

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// benchShape is a model size and a batch to time.
type benchShape struct {
	name              string
	cfg               Config
	batchSize, seqLen int
}

// benchShapes: two sizes (random weights), Llama-style GQA.
var benchShapes = []benchShape{
	{name: "small-h256-L4", batchSize: 4, seqLen: 128, cfg: Config{ModelType: "llama", VocabSize: 8192, Hidden: 256, FFN: 768,
		NumLayers: 4, NumHeads: 8, NumKVHeads: 2, HeadDim: 32, RMSNormEps: 1e-5, RopeTheta: 10000, HiddenAct: "silu",
		Rope: RopeScaling{Type: "default"}}},
	{name: "medium-h768-L6", batchSize: 2, seqLen: 256, cfg: Config{ModelType: "llama", VocabSize: 16384, Hidden: 768, FFN: 2048,
		NumLayers: 6, NumHeads: 12, NumKVHeads: 4, HeadDim: 64, RMSNormEps: 1e-5, RopeTheta: 500000, HiddenAct: "silu",
		Rope: RopeScaling{Type: "default"}}},
}

func benchRunner(b *testing.B, cfg *Config) *Runner {
	m, err := InitWeights(cfg, dtypes.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	store := model.NewStore()
	if err := m.ToStore(store, DefaultScope); err != nil {
		b.Fatal(err)
	}
	r, err := NewRunnerFromStore(testBackend(b), cfg, store, DefaultScope)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	return r
}

// BenchmarkForward times Runner.Forward (logits + hidden states, float32) and
// reports tokens/s. Run: GOMLX_BACKEND=go go test ./ops/llm -run X -bench Forward -benchtime 3x
func BenchmarkForward(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			r := benchRunner(b, &s.cfg)
			ids := make([]int32, s.batchSize*s.seqLen)
			for i := range ids {
				ids[i] = int32((i * 7919) % s.cfg.VocabSize)
			}
			input := tensors.FromFlatDataAndDimensions(ids, s.batchSize, s.seqLen)
			run := func() {
				out, err := r.Forward(input, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, t := range append(out.Hidden, out.Logits, out.LastLayerRaw) {
					t.FinalizeAll()
				}
			}
			run() // compile outside the timing
			b.ResetTimer()
			for b.Loop() {
				run()
			}
			b.ReportMetric(float64(b.N*s.batchSize*s.seqLen)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkGenerate times greedy KV-cache decoding of 32 new tokens after a
// 32-token prompt, batch 4, and reports new tokens/s.
func BenchmarkGenerate(b *testing.B) {
	const batchSize, promptLen, newTokens = 4, 32, 32
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			r := benchRunner(b, &s.cfg)
			prompts := make([][]int32, batchSize)
			for i := range prompts {
				for j := range promptLen {
					prompts[i] = append(prompts[i], int32((i*promptLen+j)*31%s.cfg.VocabSize))
				}
			}
			opts := GenerateOptions{MaxNewTokens: newTokens}
			if _, err := r.Generate(prompts, opts); err != nil { // compile outside the timing
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := r.Generate(prompts, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batchSize*newTokens)/b.Elapsed().Seconds(), "new-tokens/s")
		})
	}
}
