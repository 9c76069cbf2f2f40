package importance

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

// Tap names the pass reads (a stand-in network in tests uses the same).
const (
	tapResidualIn  = llm.TapResidualIn  // [batchSize, seqLen, hidden]
	tapAttnNormOut = llm.TapAttnNormOut // [batchSize, seqLen, hidden]
	tapOProjIn     = llm.TapOProjIn     // [batchSize, seqLen, numHeads*headDim]
	tapMLPNormOut  = llm.TapMLPNormOut  // [batchSize, seqLen, hidden]
	tapDownProjIn  = llm.TapDownProjIn  // [batchSize, seqLen, ffn]
	tapResidualOut = llm.TapResidualOut // [batchSize, seqLen, hidden]
)

// Dims are the model sizes the scores are shaped by.
type Dims struct {
	NumLayers  int
	Hidden     int
	FFN        int
	NumHeads   int
	NumKVHeads int
	HeadDim    int
}

func (d Dims) validate() error {
	if d.NumLayers < 1 || d.Hidden < 1 || d.FFN < 1 || d.NumHeads < 1 || d.NumKVHeads < 1 || d.HeadDim < 1 {
		return fmt.Errorf("importance: invalid model dimensions %+v", d)
	}
	if d.NumHeads%d.NumKVHeads != 0 {
		return fmt.Errorf("importance: numHeads %d is not a multiple of numKVHeads %d", d.NumHeads, d.NumKVHeads)
	}
	return nil
}

// tapFn receives a named activation of a layer while the graph is built.
type tapFn func(layer int, name string, x *graph.Node)

// network is the model as the pass sees it: the llm adapter in production,
// a small stand-in graph in tests.
type network interface {
	dims() Dims
	// params are fed to every compiled graph before the batch inputs (the
	// tensors keep their device buffers between executions).
	params() []*tensors.Tensor
	// forward builds the model on ids [batchSize, seqLen] int32; valid
	// ([batchSize, seqLen] bool, right padding) may be nil; skip (nil or
	// len numLayers) removes layers statically; keep (nil or [numLayers]
	// float32 of 0/1) removes the layers with 0 as a graph input
	// (llm.ForwardOptions.LayerMask), so one compilation serves every skip
	// pattern; tap (may be nil) receives the activations named above; when
	// wantLoss it returns the next-token loss sum and count
	// (llm.NextTokenLossSum's numbers; the llm adapter computes them a chunk
	// of positions at a time, never the whole batch's logits), nil otherwise.
	forward(params []*graph.Node, ids, valid *graph.Node, skip []bool, keep *graph.Node, tap tapFn, wantLoss bool) (lossSum, lossCount *graph.Node)
	// forwardFrom runs layers first … numLayers−1 and the head on x, the
	// residual stream entering layer first ([batchSize, seqLen, hidden], as
	// tapped by forward's tapResidualIn), and returns the next-token loss sum
	// and count against ids (as forward).
	forwardFrom(params []*graph.Node, x, ids, valid *graph.Node, first int) (lossSum, lossCount *graph.Node)
}
