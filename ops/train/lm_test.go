package train

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
)

// bf16LossTol: bfloat16 compute vs float32 on the initial loss (~ln vocab).
const bf16LossTol = 0.05

func tinyLlama() *llm.Config {
	return &llm.Config{ModelType: "llama", VocabSize: 64, Hidden: 32, FFN: 48, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 8,
		MaxPositions: 32, RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"}}
}

// randomStore is a store holding llm.InitWeights(cfg, float32, seed) under
// ModelScope.
func randomStore(tb testing.TB, cfg *llm.Config, seed uint64) *model.Store {
	tb.Helper()
	m, err := llm.InitWeights(cfg, dtypes.Float32, seed)
	if err != nil {
		tb.Fatal(err)
	}
	store := model.NewStore()
	if err := m.ToStore(store, ModelScope); err != nil {
		tb.Fatal(err)
	}
	return store
}

// newLMTrainer is a trainer of the LM loss (compute dtype dt) on a
// llm.InitWeights(cfg, float32, seed).
func newLMTrainer(tb testing.TB, cfg *llm.Config, seed uint64, dt dtypes.DType, c Config) *Trainer {
	tb.Helper()
	tr, err := New(testBackend(tb), randomStore(tb, cfg, seed), LMLoss(cfg, ModelScope, dt), c)
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// TestLMLossDTypes: the LM loss of a fresh model is ≈ ln(vocab) in float32
// and bfloat16 compute, and a bfloat16 step updates float32 masters.
func TestLMLossDTypes(t *testing.T) {
	cfg := tinyLlama()
	seqs := toySequences(4, 9, 2)
	batch := rowsTensor(seqs)
	losses := map[dtypes.DType]float64{}
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		tr := newLMTrainer(t, cfg, 3, dt, Config{Schedule: Schedule{PeakLR: 1e-2, TotalSteps: 3}, AdamW: DefaultAdamW()})
		res, err := tr.TrainStep([]*tensors.Tensor{batch})
		if err != nil {
			t.Fatal(err)
		}
		losses[dt] = res.Loss
		for _, p := range tr.Params() {
			if p.DType() != dtypes.Float32 {
				t.Errorf("%s master is %s", p.Path(), p.DType())
			}
		}
	}
	if math.Abs(losses[dtypes.Float32]-math.Log(64)) > 0.1 {
		t.Errorf("initial loss %g, want ≈ ln 64 = %g", losses[dtypes.Float32], math.Log(64))
	}
	if math.Abs(losses[dtypes.Float32]-losses[dtypes.BFloat16]) > bf16LossTol {
		t.Errorf("float32 loss %g vs bfloat16 %g", losses[dtypes.Float32], losses[dtypes.BFloat16])
	}
}

// BenchmarkTrainStep: one AdamW update of a 2-layer hidden-32 Llama on a
// [8, 33] batch (reports tokens/s).
func BenchmarkTrainStep(b *testing.B) {
	cfg := tinyLlama()
	cfg.MaxPositions = 64
	tr := newLMTrainer(b, cfg, 1, dtypes.Float32, Config{Schedule: Schedule{PeakLR: 1e-3, TotalSteps: 1 << 30}, AdamW: DefaultAdamW(), ClipNorm: 1})
	seqs := toySequences(8, 33, 1)
	for i := range seqs {
		for j := range seqs[i] {
			seqs[i][j] = (seqs[i][j]*7 + int32(j)) % int32(cfg.VocabSize)
		}
	}
	batch := []*tensors.Tensor{rowsTensor(seqs)}
	if _, err := tr.TrainStep(batch); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.TrainStep(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*8*33)/b.Elapsed().Seconds(), "tokens/s")
}

// lmLossTol: LMLoss (logits of the predicting positions only) vs
// llm.NextTokenLoss of the full logits, relative, in float32 — the same dot
// products and sums, so only summation order can differ.
const lmLossTol = 1e-6

// TestLMLossMatchesFullLogits: LMLoss and its gradient equal the loss of the
// full forward's logits (llm.NextTokenLoss), the definition it shortcuts.
func TestLMLossMatchesFullLogits(t *testing.T) {
	cfg := tinyLlama()
	store := randomStore(t, cfg, 5)
	embed := store.GetVariable(ModelScope + "/" + llm.EmbedTokensName)
	if embed == nil {
		t.Fatalf("no %s in the store", llm.EmbedTokensName)
	}
	exec, err := model.NewExec(testBackend(t), store, func(_ *model.Scope, batch *graph.Node) []*graph.Node {
		g := batch.Graph()
		short, _ := LMLoss(cfg, ModelScope, dtypes.Float32)(g, store, batch)
		full := llm.NextTokenLoss(llm.Forward(cfg, llm.StoreParams(g, store, ModelScope), batch, nil).Logits, batch, nil)
		w := embed.NodeValue(g)
		gradShort, gradFull := graph.Gradient(short, w)[0], graph.Gradient(full, w)[0]
		return []*graph.Node{short, full, graph.Sqrt(graph.ReduceAllSum(graph.Square(graph.Sub(gradShort, gradFull)))),
			graph.Sqrt(graph.ReduceAllSum(graph.Square(gradFull)))}
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Exec(rowsTensor(toySequences(3, 11, 4)))
	if err != nil {
		t.Fatal(err)
	}
	short, full := tensors.ToScalar[float32](outs[0]), tensors.ToScalar[float32](outs[1])
	if math.Abs(float64(short-full)) > lmLossTol*math.Abs(float64(full)) {
		t.Errorf("LMLoss %g, NextTokenLoss of the full logits %g", short, full)
	}
	diff, norm := tensors.ToScalar[float32](outs[2]), tensors.ToScalar[float32](outs[3])
	if norm == 0 || float64(diff) > 10*lmLossTol*float64(norm) {
		t.Errorf("embedding gradient differs by %g (norm %g)", diff, norm)
	}
}

// BenchmarkAdamWUpdate times one Trainer update whose loss is Σ over the
// parameters of ReduceAllSum(p) (its gradient is all ones, a single
// broadcast), so the step is the gradient norm, clipping and AdamW on the
// demo teacher's parameters (1.3M floats in 38 tensors):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go go test -run '^$' -bench AdamWUpdate ./ops/train
func BenchmarkAdamWUpdate(b *testing.B) {
	cfg, err := llm.LoadConfig("../../models/demo-teacher")
	if err != nil {
		b.Fatal(err)
	}
	store := randomStore(b, cfg, 1)
	sumOfParams := func(g *graph.Graph, s *model.Store, _ *graph.Node) (*graph.Node, map[string]*graph.Node) {
		loss := graph.ScalarZero(g, dtypes.Float32)
		for v := range s.IterVariables() {
			if v.Trainable {
				loss = graph.Add(loss, graph.ReduceAllSum(v.NodeValue(g)))
			}
		}
		return loss, nil
	}
	tr, err := New(testBackend(b), store, sumOfParams,
		Config{Schedule: Schedule{PeakLR: 1e-4, TotalSteps: 1 << 20}, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		b.Fatal(err)
	}
	batch := []*tensors.Tensor{tensors.FromValue([][]int32{{0, 1}})}
	if _, err := tr.TrainStep(batch); err != nil { // compiles
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := tr.TrainStep(batch); err != nil {
			b.Fatal(err)
		}
	}
}
