package llm

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// NextTokenLoss is the mean cross-entropy (natural log, float32) of predicting
// ids[:, 1:] from logits[:, :-1].
//
//   - logits: [batchSize, seqLen, vocab], any float dtype.
//   - ids: [batchSize, seqLen], any integer dtype.
//   - mask: optional [batchSize, seqLen] (bool, or 0/1 numbers) of valid tokens;
//     the prediction of token s counts when mask[:, s] is set, and the mean is
//     over counted predictions (0 if there are none).
//
// It returns a float32 scalar; it is differentiable with respect to logits.
func NextTokenLoss(logits, ids *Node, mask *Node) *Node {
	if logits.Rank() != 3 || ids.Rank() != 2 ||
		logits.Shape().Dim(0) != ids.Shape().Dim(0) || logits.Shape().Dim(1) != ids.Shape().Dim(1) {
		panic(fmt.Sprintf("llm.NextTokenLoss: logits %s must be [batchSize, seqLen, vocab] and ids %s [batchSize, seqLen]",
			logits.Shape(), ids.Shape()))
	}
	g := logits.Graph()
	batchSize, seqLen := ids.Shape().Dim(0), ids.Shape().Dim(1)
	if seqLen < 2 {
		panic(fmt.Sprintf("llm.NextTokenLoss: seqLen must be at least 2, got ids %s", ids.Shape()))
	}
	pred := SliceAxis(ConvertDType(logits, dtypes.Float32), 1, AxisRange(0, seqLen-1)) // [batchSize, seqLen-1, vocab]
	targets := ConvertDType(SliceAxis(ids, 1, AxisRange(1, seqLen)), dtypes.Int32)     // [batchSize, seqLen-1]
	logProbs := LogSoftmax(pred, -1)

	// Take logProbs[b, s, targets[b, s]] with one Gather.
	idxShape := shapesOf(dtypes.Int32, batchSize, seqLen-1)
	indices := Stack([]*Node{Iota(g, idxShape, 0), Iota(g, idxShape, 1), targets}, -1) // [batchSize, seqLen-1, 3]
	nll := Neg(Gather(logProbs, indices))                                              // [batchSize, seqLen-1]
	if mask == nil {
		return ReduceAllMean(nll)
	}
	if mask.Rank() != 2 || !mask.Shape().EqualDimensions(ids.Shape()) {
		panic(fmt.Sprintf("llm.NextTokenLoss: mask %s must be [batchSize, seqLen] like ids %s", mask.Shape(), ids.Shape()))
	}
	weights := SliceAxis(mask, 1, AxisRange(1, seqLen))
	if weights.DType() == dtypes.Bool {
		weights = ConvertDType(weights, dtypes.Float32)
	} else {
		weights = ConvertDType(NotEqual(weights, ZerosLike(weights)), dtypes.Float32)
	}
	weights = StopGradient(weights)
	count := Max(ReduceAllSum(weights), ScalarOne(g, dtypes.Float32))
	return Div(ReduceAllSum(Mul(nll, weights)), count)
}
