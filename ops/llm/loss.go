package llm

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
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
	sum, count := NextTokenLossSum(logits, ids, mask)
	return Div(sum, Max(count, ScalarOne(logits.Graph(), dtypes.Float32)))
}

// NextTokenLossSum is the sum and count form of NextTokenLoss (both float32
// scalars), so losses over several batches or chunks add up exactly: Σ over
// counted positions s < seqLen-1 of −log softmax(logits[:, s])[ids[:, s+1]],
// and the number of counted positions. The target logit is gathered (no
// one-hot, no [batchSize, seqLen, vocab] log-probabilities).
func NextTokenLossSum(logits, ids, mask *Node) (sum, count *Node) {
	if logits.Rank() != 3 || ids.Rank() != 2 ||
		logits.Shape().Dim(0) != ids.Shape().Dim(0) || logits.Shape().Dim(1) != ids.Shape().Dim(1) {
		panic(fmt.Sprintf("llm.NextTokenLoss: logits %s must be [batchSize, seqLen, vocab] and ids %s [batchSize, seqLen]",
			logits.Shape(), ids.Shape()))
	}
	seqLen := ids.Shape().Dim(1)
	if seqLen < 2 {
		panic(fmt.Sprintf("llm.NextTokenLoss: seqLen must be at least 2, got ids %s", ids.Shape()))
	}
	if mask != nil && (mask.Rank() != 2 || !mask.Shape().EqualDimensions(ids.Shape())) {
		panic(fmt.Sprintf("llm.NextTokenLoss: mask %s must be [batchSize, seqLen] like ids %s", mask.Shape(), ids.Shape()))
	}
	pred := SliceAxis(logits, 1, AxisRange(0, seqLen-1)) // [batchSize, seqLen-1, vocab]
	targets := SliceAxis(ids, 1, AxisRange(1, seqLen))   // [batchSize, seqLen-1]
	var weights *Node
	if mask != nil {
		weights = targetWeights(SliceAxis(mask, 1, AxisRange(1, seqLen)))
	}
	return positionLossSum(pred, targets, weights)
}

// targetWeights turns a validity mask (bool or 0/1 numbers) into float32 0/1
// weights, without gradient.
func targetWeights(mask *Node) *Node {
	if mask.DType() != dtypes.Bool {
		mask = NotEqual(mask, ZerosLike(mask))
	}
	return StopGradient(ConvertDType(mask, dtypes.Float32))
}

// positionLossSum is Σ weights · (logsumexp(logits) − logits[target]) and
// Σ weights (batchSize × positions when weights is nil), for logits
// [batchSize, n, vocab], targets [batchSize, n] and weights float32
// [batchSize, n] or nil.
func positionLossSum(logits, targets, weights *Node) (sum, count *Node) {
	g := logits.Graph()
	batchSize, n := targets.Shape().Dim(0), targets.Shape().Dim(1)
	nll := positionNLL(logits, targets) // [batchSize, n]
	if weights == nil {
		return ReduceAllSum(nll), Scalar(g, dtypes.Float32, batchSize*n)
	}
	// Where, not a product: a padded position's loss may be ±Inf or NaN.
	return ReduceAllSum(Where(NotEqual(weights, ZerosLike(weights)), nll, ZerosLike(nll))), ReduceAllSum(weights)
}

// positionNLL is logsumexp(logits) − logits[target] [batchSize, n] float32
// for logits [batchSize, n, vocab] (any float dtype) and targets
// [batchSize, n] (int): the target logit is gathered (no one-hot, no
// [batchSize, n, vocab] log-probabilities).
func positionNLL(logits, targets *Node) *Node {
	g := logits.Graph()
	batchSize, n := targets.Shape().Dim(0), targets.Shape().Dim(1)
	logits = ConvertDType(logits, dtypes.Float32)
	maxLogit := StopGradient(ReduceAndKeep(logits, ReduceMax, -1))                          // [batchSize, n, 1]
	logSumExp := Add(Log(ReduceSum(Exp(Sub(logits, maxLogit)), -1)), Squeeze(maxLogit, -1)) // [batchSize, n]
	idxShape := shapes.Make(dtypes.Int32, batchSize, n, 1)
	indices := Concatenate([]*Node{Iota(g, idxShape, 0), Iota(g, idxShape, 1), InsertAxes(ConvertDType(targets, dtypes.Int32), -1)}, -1)
	return Sub(logSumExp, Gather(logits, indices))
}

// LogitsChunkBytes bounds the float32 working set of one chunk of logits
// [batchSize, chunk, vocab] that the chunked computations from hidden states
// (NextTokenLossSumChunked, TargetLogProbsChunked) hold at a time
// (LogitsChunkPositions): LogitsChunkCopies tensors of that shape.
const LogitsChunkBytes = 256 << 20

// LogitsChunkCopies is how many [batchSize, chunk, vocab] float32 tensors a
// chunk holds at its peak: the lm_head's per-row-chunk products beside their
// concatenation (when the head is converted a chunk of rows at a time), and
// the concatenated logits beside logits − max, whose exp is taken in place.
// Measured on a random Qwen2.5-0.5B-shape bf16 model over 4×256 tokens
// (creation-order schedule): the LM-loss pass peaked 1.24 GB above the
// activation-only pass with chunks of 1× LogitsChunkBytes of logits.
const LogitsChunkCopies = 3

// LogitsChunkPositions is the number of positions per chunk whose
// LogitsChunkCopies float32 logits [batchSize, chunk, vocab] fit in
// LogitsChunkBytes (at least 1).
func LogitsChunkPositions(batchSize, vocab int) int {
	return max(1, LogitsChunkBytes/max(1, LogitsChunkCopies*batchSize*vocab*4))
}

// NextTokenLossSumChunked is NextTokenLossSum computed from the final
// (normed) hidden states [batchSize, seqLen, hidden] and the output
// projection head [vocab, hidden] (LMHeadWeight, any dtype: converted a
// chunk of rows at a time like Forward's) chunkPositions positions at
// a time: only [batchSize, chunkPositions, vocab] logits exist at once,
// never the whole batch's (for a 152k vocabulary, 8 × 2048 positions are
// 10 GB of float32 logits; each chunk waits for the previous one, so a
// scheduler cannot run them all at once). The numbers are those of the whole computation
// up to float rounding of the sums. chunkPositions ≤ 0 means one chunk.
func NextTokenLossSumChunked(hidden, head, ids, mask *Node, dtype dtypes.DType, chunkPositions int) (sum, count *Node) {
	seqLen := ids.Shape().Dim(1)
	if seqLen < 2 {
		panic(fmt.Sprintf("llm.NextTokenLoss: seqLen must be at least 2, got ids %s", ids.Shape()))
	}
	g := ids.Graph()
	sum, count = ScalarZero(g, dtypes.Float32), ScalarZero(g, dtypes.Float32)
	forEachLogitsChunk(hidden, head, dtype, seqLen-1, chunkPositions, func(start, end int, logits *Node) *Node {
		targets := SliceAxis(ids, 1, AxisRange(start+1, end+1)) // [batchSize, c]
		var weights *Node
		if mask != nil {
			weights = targetWeights(SliceAxis(mask, 1, AxisRange(start+1, end+1)))
		}
		s, c := positionLossSum(logits, targets, weights)
		sum, count = Add(sum, s), Add(count, c)
		return sum
	})
	return sum, count
}

// TargetLogProbsChunked is, for the final (normed) hidden states
// [batchSize, seqLen, hidden], the output projection head [vocab, hidden]
// (LMHeadWeight, any dtype) and targets [batchSize, seqLen] (int; the token
// each position predicts), logp [batchSize, seqLen] float32 = log
// softmax(logits)[target] and greedy [batchSize, seqLen] bool = (argmax of
// the logits, first index on ties, == target), computed chunkPositions
// positions at a time like NextTokenLossSumChunked: the whole batch's
// [batchSize, seqLen, vocab] logits never exist. chunkPositions ≤ 0 means
// one chunk.
func TargetLogProbsChunked(hidden, head, targets *Node, dtype dtypes.DType, chunkPositions int) (logp, greedy *Node) {
	var logps, greedys []*Node
	forEachLogitsChunk(hidden, head, dtype, targets.Shape().Dim(1), chunkPositions, func(start, end int, logits *Node) *Node {
		t := SliceAxis(targets, 1, AxisRange(start, end)) // [batchSize, c]
		nll := positionNLL(logits, t)                     // [batchSize, c]
		logps = append(logps, Neg(nll))
		greedys = append(greedys, Equal(ArgMax(logits, -1, dtypes.Int32), ConvertDType(t, dtypes.Int32)))
		return nll
	})
	return Concatenate(logps, 1), Concatenate(greedys, 1)
}

// forEachLogitsChunk calls fn, in order, with the float32 logits
// [batchSize, end-start, vocab] of hidden's positions [start, end) for
// consecutive chunks of chunkPositions covering [0, n) (chunkPositions ≤ 0
// or > n: one chunk). fn returns a node computed from its chunk; the next
// chunk's input depends on it (+ 0), so a scheduler runs the chunks one
// after another and only one chunk's logits exist at a time.
func forEachLogitsChunk(hidden, head *Node, dtype dtypes.DType, n, chunkPositions int, fn func(start, end int, logits *Node) *Node) {
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float32
	}
	if chunkPositions <= 0 || chunkPositions > n {
		chunkPositions = n
	}
	var prev *Node
	for start := 0; start < n; start += chunkPositions {
		end := min(start+chunkPositions, n)
		h := SliceAxis(hidden, 1, AxisRange(start, end)) // [batchSize, c, hidden]
		if h.DType() != dtype {
			h = ConvertDType(h, dtype)
		}
		if prev != nil { // + 0 computed from the previous chunk: the chunks run one after another
			h = Add(h, ZeroAfter(prev, dtype))
		}
		prev = fn(start, end, lmHeadLogits(h, head, dtype, chunkPositions < n)) // logits [batchSize, c, vocab] float32
	}
}

// LMHeadWeight is the model's output projection [vocab, hidden] as stored
// (any dtype): lm_head.weight, or the embeddings when they are tied. It
// panics (GoMLX style) when the model has neither.
func LMHeadWeight(cfg *Config, params ParamFn) *Node {
	if w := params(LMHeadName); w != nil {
		return w
	}
	if !cfg.TieEmbeddings {
		panic("llm: weight \"lm_head.weight\" is missing (and tie_word_embeddings is false)")
	}
	if w := params(EmbedTokensName); w != nil {
		return w
	}
	panic("llm: weight \"model.embed_tokens.weight\" is missing")
}
