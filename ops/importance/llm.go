package importance

import (
	"fmt"
	"sort"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

// llmNetwork runs llm.Forward with the weights passed as graph parameters
// (sorted by HF name).
type llmNetwork struct {
	cfg     *llm.Config
	names   []string
	weights []*tensors.Tensor
	dtype   dtypes.DType
	// fusedAttention asks for the backend's fused attention
	// (llm.ForwardOptions.FusedAttention); set by the speed runs only, until
	// it is checked on a GPU (docs/gpu.md).
	fusedAttention bool
}

// newLLMNetwork checks the weights against the config's needs (by running
// Forward's own lookups lazily: a missing weight panics at graph build time
// with its name, which the pass turns into an error).
func newLLMNetwork(cfg *llm.Config, weights map[string]*tensors.Tensor, dtype dtypes.DType) (*llmNetwork, error) {
	if cfg == nil {
		return nil, fmt.Errorf("importance: nil model config")
	}
	if len(weights) == 0 {
		return nil, fmt.Errorf("importance: model has no weights")
	}
	n := &llmNetwork{cfg: cfg, dtype: dtype}
	for name := range weights {
		n.names = append(n.names, name)
	}
	sort.Strings(n.names)
	for _, name := range n.names {
		n.weights = append(n.weights, weights[name])
	}
	return n, n.dims().validate()
}

func (n *llmNetwork) dims() Dims {
	c := n.cfg
	return Dims{NumLayers: c.NumLayers, Hidden: c.Hidden, FFN: c.FFN, NumHeads: c.NumHeads, NumKVHeads: c.NumKVHeads, HeadDim: c.HeadDim}
}

func (n *llmNetwork) params() []*tensors.Tensor { return n.weights }

func (n *llmNetwork) forward(params []*Node, ids, valid *Node, skip []bool, keep *Node, tap tapFn, wantLoss bool) (lossSum, lossCount *Node) {
	opts := &llm.ForwardOptions{
		SkipLayers:    skip,
		AttentionMask: valid,
		DType:         n.dtype,
		NoLogits:      true, // the loss applies the lm_head a chunk of positions at a time
		LayerMask:     keep, // nil or [numLayers]: 0 removes the layer

		FusedAttention: n.fusedAttention,
	}
	if tap != nil {
		opts.Tap = tap
	}
	paramFn := n.paramFn(params)
	out := llm.Forward(n.cfg, paramFn, ids, opts)
	if !wantLoss {
		return nil, nil
	}
	return n.loss(out, paramFn, ids, valid)
}

func (n *llmNetwork) forwardFrom(params []*Node, x, ids, valid *Node, first int) (lossSum, lossCount *Node) {
	opts := &llm.ForwardOptions{AttentionMask: valid, DType: n.dtype, NoLogits: true, FusedAttention: n.fusedAttention}
	paramFn := n.paramFn(params)
	return n.loss(llm.ForwardFrom(n.cfg, paramFn, x, first, opts), paramFn, ids, valid)
}

// loss is the next-token loss sum and count of a forward's final hidden
// states, the lm_head applied a chunk of positions at a time.
func (n *llmNetwork) loss(out *llm.Outputs, paramFn llm.ParamFn, ids, valid *Node) (lossSum, lossCount *Node) {
	chunk := llm.LogitsChunkPositions(ids.Shape().Dim(0), n.cfg.VocabSize)
	return llm.NextTokenLossSumChunked(out.Hidden[n.cfg.NumLayers], llm.LMHeadWeight(n.cfg, paramFn), ids, valid, n.dtype, chunk)
}

// paramFn looks the graph parameters up by HF name (params in n.names order).
func (n *llmNetwork) paramFn(params []*Node) llm.ParamFn {
	byName := make(map[string]*Node, len(params))
	for i, name := range n.names {
		byName[name] = params[i]
	}
	return func(name string) *Node { return byName[name] }
}
