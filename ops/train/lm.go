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
//
// Logits are computed for the predicting positions 0 … seqLen−2 only (the
// hidden states are sliced, not the [batchSize, seqLen, vocab] logits): the
// same loss as llm.NextTokenLoss of the full logits, without a slice of the
// logits and its padded gradient.
func LMLoss(cfg *llm.Config, scopePath string, dtype dtypes.DType) LossFn {
	return func(g *graph.Graph, store *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		params := llm.StoreParams(g, store, scopePath)
		out := llm.Forward(cfg, params, batch, &llm.ForwardOptions{DType: dtype, NoLogits: true})
		sum, count := llm.NextTokenLossSumChunked(out.Hidden[cfg.NumLayers], llm.LMHeadWeight(cfg, params), batch, nil, dtype, 0)
		return graph.Div(sum, count), nil
	}
}
