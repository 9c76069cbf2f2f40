package evaluate

import (
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gomlx/compute/dtypes"
)

// BenchmarkModelLogProber times the scoring hot path (one padded batch
// forward + in-graph log-softmax gather) on a tiny random model:
// go test -bench ModelLogProber ./ops/evaluate
func BenchmarkModelLogProber(b *testing.B) {
	m, err := llm.InitWeights(tinyConfig(), dtypes.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewModelLogProber(testBackend(b), m, ModelOptions{BatchSize: 8})
	if err != nil {
		b.Fatal(err)
	}
	seqs := make([][]int32, 8)
	for i := range seqs {
		seqs[i] = make([]int32, 33)
		for t := range seqs[i] {
			seqs[i][t] = int32((i*31 + t*7) % 96)
		}
	}
	if _, err := p.LogProbs(seqs); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := p.LogProbs(seqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*8*32)/b.Elapsed().Seconds(), "tokens/s")
}
