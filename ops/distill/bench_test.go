package distill

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/train"
)

// newBenchTrainer returns a trainer distilling a 4-layer h128 teacher into a
// 4-layer h96/f256 student (the recovery experiment's shapes, vocab given).
func newBenchTrainer(b testing.TB, vocab int, o Loss) *train.Trainer {
	tcfg := tinyConfig(vocab, 128, 512, 4, true)
	tcfg.NumHeads, tcfg.NumKVHeads, tcfg.HeadDim = 4, 2, 32
	scfg := tinyConfig(vocab, 96, 256, 4, true)
	scfg.NumHeads, scfg.NumKVHeads, scfg.HeadDim = 4, 2, 32
	tcfg.MaxPositions, scfg.MaxPositions = 512, 512
	return newDistillTrainer(b, testBackend(b), tinyModel(b, tcfg, 1), tinyModel(b, scfg, 2), o, 1e-4)
}

// BenchmarkDistillStep: one distillation update (teacher forward + student
// forward/backward + AdamW) at batch 8 × 129 tokens, vocab 2048, reporting
// tokens/s.
func BenchmarkDistillStep(b *testing.B) {
	for _, c := range []struct {
		name string
		o    Loss
	}{
		{"kl", Loss{}},
		{"kl+is", Loss{Intermediate: DefaultLayerMap(4, 4), EmbeddingLoss: true}},
		{"kl-chunk32", Loss{ChunkSize: 32}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tr := newBenchTrainer(b, 2048, c.o)
			batch := randomBatch(rand.New(rand.NewPCG(1, 1)), 8, 129, 2048)
			if _, err := tr.TrainStep([]*tensors.Tensor{batch}); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := tr.TrainStep([]*tensors.Tensor{batch}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*8*129)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// TestChunkedMemory (DISTILL_MEM=1) measures the peak Go heap of one update
// with a large vocabulary, whole-sequence vs chunked logits losses.
func TestChunkedMemory(t *testing.T) {
	if os.Getenv("DISTILL_MEM") == "" {
		t.Skip("set DISTILL_MEM=1 to measure")
	}
	const vocab, batchSize, seqLen = 32000, 2, 256
	for _, chunk := range []int{0, 32} {
		tr := newBenchTrainer(t, vocab, Loss{ChunkSize: chunk})
		batch := randomBatch(rand.New(rand.NewPCG(1, 1)), batchSize, seqLen, vocab)
		// The first update of a fresh trainer: the backend's buffer pool is
		// still empty, so the heap follows the live tensors.
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		peak := peakHeapDuring(func() {
			if _, err := tr.TrainStep([]*tensors.Tensor{batch}); err != nil {
				t.Fatal(err)
			}
		})
		logitsMB := float64(batchSize*seqLen*vocab*4) / (1 << 20)
		t.Logf("chunk %d: peak heap %s above the %s before the step (weights, moments); one [%d,%d,%d] float32 logits tensor is %.0f MiB",
			chunk, mib(peak-int64(base.HeapInuse)), mib(int64(base.HeapInuse)), batchSize, seqLen, vocab, logitsMB)
		tr = nil
		runtime.GC()
	}
}

// peakHeapDuring samples HeapInuse every millisecond while fn runs.
func peakHeapDuring(fn func()) int64 {
	var peak atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for !stop.Load() {
			runtime.ReadMemStats(&ms)
			if v := int64(ms.HeapInuse); v > peak.Load() {
				peak.Store(v)
			}
			time.Sleep(time.Millisecond)
		}
	})
	fn()
	stop.Store(true)
	wg.Wait()
	return peak.Load()
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
