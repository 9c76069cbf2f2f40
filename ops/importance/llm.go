package importance

import (
	"fmt"
	"sort"
	"strings"

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

// canMaskLayers: zeroing a layer's FFN and head masks removes it exactly
// unless o_proj or down_proj add a bias after the masked product.
func (n *llmNetwork) canMaskLayers() bool {
	for _, name := range n.names {
		if strings.HasSuffix(name, ".self_attn.o_proj.bias") || strings.HasSuffix(name, ".mlp.down_proj.bias") {
			return false
		}
	}
	return true
}

// lossChunkBytes bounds the float32 logits [batchSize, chunk, vocab] the
// loss holds at a time.
const lossChunkBytes = 256 << 20

func (n *llmNetwork) forward(params []*Node, ids, valid *Node, skip []bool, keep *Node, tap tapFn, wantLoss bool) (lossSum, lossCount *Node) {
	byName := make(map[string]*Node, len(params))
	for i, name := range n.names {
		byName[name] = params[i]
	}
	opts := &llm.ForwardOptions{
		SkipLayers:    skip,
		AttentionMask: valid,
		DType:         n.dtype,
		NoLogits:      true, // the loss applies the lm_head a chunk of positions at a time
	}
	if tap != nil {
		opts.Tap = tap
	}
	if keep != nil {
		// A kept layer multiplies by 1; a removed one zeroes every head and
		// every FFN neuron, so it adds exactly 0 to the residual stream.
		c := n.cfg
		k := InsertAxes(keep, -1) // [numLayers, 1]
		opts.FFNMask = BroadcastToDims(k, c.NumLayers, c.FFN)
		opts.HeadMask = BroadcastToDims(k, c.NumLayers, c.NumHeads)
	}
	paramFn := func(name string) *Node { return byName[name] }
	out := llm.Forward(n.cfg, paramFn, ids, opts)
	if !wantLoss {
		return nil, nil
	}
	chunk := max(1, lossChunkBytes/(ids.Shape().Dim(0)*n.cfg.VocabSize*4))
	return llm.NextTokenLossSumChunked(out.Hidden[n.cfg.NumLayers], llm.LMHeadWeight(n.cfg, paramFn), ids, valid, n.dtype, chunk)
}
