package importance

import (
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// standIn is a one-layer network whose every width activation is the row
// table[ids[b, s]] (width 2), so tests know the activations exactly:
// hidden = ffn = numHeads·headDim = 2 (one head of headDim 2). The residual
// stream leaving the layer is the activation with its two channels swapped.
// Logits are A · tableᵀ.
type standIn struct {
	table *tensors.Tensor // [vocab, 2] float32
}

func newStandIn(rows [][2]float32) *standIn {
	flat := make([]float32, 0, 2*len(rows))
	for _, r := range rows {
		flat = append(flat, r[0], r[1])
	}
	return &standIn{table: tensors.FromFlatDataAndDimensions(flat, len(rows), 2)}
}

func (n *standIn) dims() Dims {
	return Dims{NumLayers: 1, Hidden: 2, FFN: 2, NumHeads: 1, NumKVHeads: 1, HeadDim: 2}
}

func (n *standIn) params() []*tensors.Tensor { return []*tensors.Tensor{n.table} }

// forwardFrom: first = 0 runs the layer on x, first = 1 only the head.
func (n *standIn) forwardFrom(params []*Node, x, ids, valid *Node, first int) (lossSum, lossCount *Node) {
	if first == 0 {
		x = Concatenate([]*Node{SliceAxis(x, -1, AxisElem(1)), SliceAxis(x, -1, AxisElem(0))}, -1)
	}
	return llm.NextTokenLossSum(DotGeneral(x, []int{2}, nil, params[0], []int{1}, nil), ids, valid) // logits [batchSize, seqLen, vocab]
}

func (n *standIn) forward(params []*Node, ids, valid *Node, skip []bool, keep *Node, tap tapFn, wantLoss bool) (lossSum, lossCount *Node) {
	table := params[0]
	a := Gather(table, InsertAxes(ConvertDType(ids, dtypes.Int32), -1)) // [batchSize, seqLen, 2]
	out := a
	if len(skip) == 0 || !skip[0] {
		out = Concatenate([]*Node{SliceAxis(a, -1, AxisElem(1)), SliceAxis(a, -1, AxisElem(0))}, -1)
		if keep != nil {
			out = Add(a, Mul(Sub(out, a), Reshape(keep, 1, 1, 1))) // keep [numLayers=1]
		}
		if tap != nil {
			for _, name := range []string{tapResidualIn, tapAttnNormOut, tapOProjIn, tapMLPNormOut, tapDownProjIn} {
				tap(0, name, a)
			}
			tap(0, tapResidualOut, out)
		}
	}
	if !wantLoss {
		return nil, nil
	}
	return llm.NextTokenLossSum(DotGeneral(out, []int{2}, nil, table, []int{1}, nil), ids, valid) // logits [batchSize, seqLen, vocab]
}
