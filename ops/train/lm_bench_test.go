package train

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
)

// TestLMThroughput measures training tokens/s of a Llama config (set
// GOMINITRON_BENCH=hidden,layers,ffn,vocab,seq,batch to run).
func TestLMThroughput(t *testing.T) {
	spec := os.Getenv("GOMINITRON_BENCH")
	if spec == "" {
		t.Skip("set GOMINITRON_BENCH=hidden,layers,ffn,vocab,seq,batch")
	}
	var v [6]int
	fmt.Sscanf(spec, "%d,%d,%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5])
	cfg := &llm.Config{ModelType: "llama", VocabSize: v[3], Hidden: v[0], FFN: v[2], NumLayers: v[1], NumHeads: 4, NumKVHeads: 2,
		HeadDim: v[0] / 4, MaxPositions: v[4], RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"}, TieEmbeddings: true}
	w, err := InitWeights(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := (&llm.Model{Config: cfg, Weights: w}).ToStore(store, ModelScope); err != nil {
		t.Fatal(err)
	}
	dt := dtypes.Float32
	if os.Getenv("GOMINITRON_BENCH_BF16") != "" {
		dt = dtypes.BFloat16
	}
	tr, err := New(testBackend(t), store, LMLoss(cfg, ModelScope, dt), Config{Schedule: Schedule{PeakLR: 1e-3, TotalSteps: 100}, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([][]int32, v[5])
	for i := range seqs {
		seqs[i] = make([]int32, v[4])
		for j := range seqs[i] {
			seqs[i][j] = int32((i*7 + j*13) % v[3])
		}
	}
	b := batchTensor(seqs)
	steps, _ := strconv.Atoi(os.Getenv("GOMINITRON_BENCH_STEPS"))
	if steps == 0 {
		steps = 5
	}
	if _, err := tr.TrainStep([]*tensors.Tensor{b}); err != nil { // compile
		t.Fatal(err)
	}
	start := time.Now()
	var loss float64
	for range steps {
		r, err := tr.TrainStep([]*tensors.Tensor{b})
		if err != nil {
			t.Fatal(err)
		}
		loss = r.Loss
	}
	el := time.Since(start)
	var params int
	for _, p := range tr.Params() {
		params += p.Shape().Size()
	}
	t.Logf("params %d, %s, %d steps in %s: %.0f tokens/s (loss %.3f)", params, spec, steps, el, float64(steps*v[4]*v[5])/el.Seconds(), loss)
}
