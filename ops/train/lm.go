package train

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
)

// ModelScope is the store scope under which the trained model's weights live
// (one variable per Hugging Face tensor name).
const ModelScope = "/model"

// LMLoss returns the next-token cross-entropy LossFn of the Llama-family
// model cfg whose weights are under scopePath in the store, computed in dtype
// (float32 or bfloat16; the weights stay float32 masters, cast in the graph).
// It reports no extra metrics.
func LMLoss(cfg *llm.Config, scopePath string, dtype dtypes.DType) LossFn {
	return func(g *graph.Graph, store *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		out := llm.Forward(cfg, llm.StoreParams(g, store, scopePath), batch, &llm.ForwardOptions{DType: dtype})
		return llm.NextTokenLoss(out.Logits, batch, nil), nil
	}
}
