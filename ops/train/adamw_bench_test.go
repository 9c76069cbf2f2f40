package train

import (
	"os"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
)

// BenchmarkAdamWUpdate times one Trainer update whose loss is Σ over the
// parameters of ReduceAllSum(p) (its gradient is all ones, a single
// broadcast), so the step is the gradient norm, clipping and AdamW on the
// demo teacher's parameters (1.3M floats in 38 tensors):
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go go test -run '^$' -bench AdamWUpdate ./ops/train
func BenchmarkAdamWUpdate(b *testing.B) {
	raw, err := os.ReadFile("../../models/demo-teacher/config.json")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := llm.ParseConfig(raw)
	if err != nil {
		b.Fatal(err)
	}
	m, err := llm.InitWeights(cfg, dtypes.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	store := model.NewStore()
	if err := m.ToStore(store, ModelScope); err != nil {
		b.Fatal(err)
	}
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
