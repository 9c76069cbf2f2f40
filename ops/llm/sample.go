package llm

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// tokenPick is what a prompt pass or decode step returns for the next token;
// its values are compile-time (a Runner keeps one graph per pick).
type tokenPick struct {
	kind pickKind
	topK int // pickSample: keep the topK most likely tokens (0 = all)
	// gumbel (pickSample without top-k or top-p): draw by the Gumbel-max trick,
	// argmax(logits/T + Gumbel noise), one pass over the vocabulary instead of
	// the sort the filters need (the same distribution, another random stream).
	gumbel bool
}

type pickKind int

const (
	pickLogits pickKind = iota // the logits [batchSize, vocab] float32
	pickGreedy                 // argmax ids [batchSize] int32 (the first index on ties, as torch.argmax)
	pickSample                 // ids [batchSize] int32 drawn on the device (sampleTokens)
)

// pickFor is the pick of decoding options: greedy for Temperature ≤ 0, else
// sampling; by the Gumbel-max trick when neither top-k nor top-p filters.
func pickFor(opts GenerateOptions) tokenPick {
	if opts.Temperature <= 0 {
		return tokenPick{kind: pickGreedy}
	}
	unfiltered := opts.TopK == 0 && topPInput(opts.TopP) > 1
	return tokenPick{kind: pickSample, topK: opts.TopK, gumbel: unfiltered}
}

// numInputs is how many graph inputs the pick adds: pickSample takes the RNG
// state (graph.RNGStateShape), the temperature and top-p (scalars float32;
// the Gumbel-max draw takes top-p too and ignores it, so every sampling graph
// has the same inputs).
func (p tokenPick) numInputs() int {
	if p.kind == pickSample {
		return 3
	}
	return 0
}

// apply returns the step's next-token output from logits [batchSize, vocab]
// float32 and, for pickSample (inputs = numInputs() nodes), the new RNG state.
func (p tokenPick) apply(logits *Node, inputs []*Node) (next, newRNGState *Node) {
	switch p.kind {
	case pickGreedy:
		return ArgMax(logits, -1, dtypes.Int32), nil
	case pickSample:
		if p.gumbel {
			return sampleGumbelMax(logits, inputs[0], inputs[1])
		}
		return sampleTokens(logits, inputs[0], inputs[1], inputs[2], p.topK)
	}
	return logits, nil
}

// sampleTokens draws one token per row of logits [batchSize, vocab] float32
// on the device, as transformers orders the filters: logits / temperature
// (scalar) → keep the topK most likely (0 = all; ties: lower id first) → keep
// the shortest prefix of the most likely tokens whose probability reaches
// topP (scalar; at least one token; a topP ≥ 1 keeps all) → draw from the
// renormalised rest. It returns ids [batchSize] int32 and the new RNG state.
func sampleTokens(logits, rngState, temperature, topP *Node, topK int) (ids, newRNGState *Node) {
	batchSize, vocab := logits.Shape().Dim(0), logits.Shape().Dim(1)
	k := vocab
	if topK > 0 && topK < vocab {
		k = topK
	}
	g := logits.Graph()
	values, indices := TopK(Div(logits, temperature), k, -1) // [batchSize, k] descending, indices int32
	probs := Softmax(values, -1)                             // over the top k
	before := CumSum(probs, -1, &CumSumOptions{Exclusive: true})
	first := Equal(Iota(g, shapesOf(dtypes.Int32, batchSize, k), 1), ScalarZero(g, dtypes.Int32))
	keep := LogicalOr(LessThan(before, topP), first)                                  // mass before it < topP
	cum := CumSum(Where(keep, probs, ZerosLike(probs)), -1)                           // [batchSize, k]
	total := ReduceAndKeep(cum, ReduceMax, -1)                                        // [batchSize, 1]
	newRNGState, u := RandomUniform(rngState, shapesOf(dtypes.Float32, batchSize, 1)) // [0, 1)
	// The chosen position is the first whose cumulative mass exceeds u·total,
	// i.e. the number of positions at or below it (clamped to the kept ones).
	pos := ReduceSum(ConvertDType(LessOrEqual(cum, Mul(u, total)), dtypes.Int32), -1)
	lastKept := SubScalar(ReduceSum(ConvertDType(keep, dtypes.Int32), -1), 1)
	pos = Min(pos, lastKept) // [batchSize]
	chosen := Equal(Iota(g, shapesOf(dtypes.Int32, batchSize, k), 1), InsertAxes(pos, -1))
	ids = ReduceSum(Where(chosen, indices, ZerosLike(indices)), -1)
	return ids, newRNGState
}

// sampleGumbelMax draws one token per row of logits [batchSize, vocab] float32
// from softmax(logits / temperature) (scalar) by the Gumbel-max trick:
// argmax(logits/T − log(−log u)) with u uniform in [0, 1) per entry is
// distributed as the softmax (u = 0 gives −∞: never chosen). One uniform per
// vocabulary entry and one argmax, where sampleTokens sorts the whole
// vocabulary (TopK with k = vocab): the pure-Go backend's sort made sampling
// ~40× slower than greedy decoding. It returns ids [batchSize] int32 and the
// new RNG state.
func sampleGumbelMax(logits, rngState, temperature *Node) (ids, newRNGState *Node) {
	newRNGState, u := RandomUniform(rngState, logits.Shape()) // [batchSize, vocab] in [0, 1)
	gumbel := Neg(Log(Neg(Log(u))))
	return ArgMax(Add(Div(logits, temperature), gumbel), -1, dtypes.Int32), newRNGState
}

// topPInput is the top-p graph input for GenerateOptions.TopP: 0 or ≥ 1 mean
// no top-p filter, passed as 2 (every prefix's mass before it is < 2).
func topPInput(p float64) float32 {
	if p <= 0 || p >= 1 {
		return 2
	}
	return float32(p)
}
