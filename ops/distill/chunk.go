package distill

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import

	"github.com/gominitron/gominitron/ops/llm"
)

// logitsTerms builds L_logits and L_ce from the final (normed) hidden states
// of both models and their output projections, over the whole sequence or
// in chunks of positions.
type logitsTerms struct {
	opts           Loss
	vocab          int   // compared ids [0, vocab)
	tHidden        *Node // [batchSize, seqLen, teacherHidden], detached
	sHidden        *Node // [batchSize, seqLen, studentHidden]
	tHead, sHead   *Node // [vocab', hidden] output projections in the compute dtype
	ids            *Node // [batchSize, seqLen] int
	mask           *Node // [batchSize, seqLen] bool or nil
	kdMask, ceMask *Node // float32 0/1 [batchSize, seqLen]
	nextIDs        *Node // [batchSize, seqLen] int32: ids shifted left by one (last repeated)
}

// logits maps hidden [batchSize, c, hidden] with head [vocab, hidden] to
// float32 logits [batchSize, c, vocab].
func headLogits(h, head *Node) *Node {
	return ConvertDType(DotGeneral(h, []int{h.Rank() - 1}, nil, head, []int{1}, nil), dtypes.Float32)
}

// cutRows keeps the first n rows of w.
func cutRows(w *Node, n int) *Node {
	if w.Shape().Dim(0) == n {
		return w
	}
	return SliceAxis(w, 0, AxisRange(0, n))
}

// gatherLast returns x[..., ids[...]]: x [..., vocab] float32, ids [...] int.
func gatherLast(x, ids *Node) *Node {
	outer := ids.Shape().Dimensions
	n := ids.Shape().Size()
	flat := Reshape(x, n, x.Shape().Dim(-1))
	idx := Reshape(ConvertDType(ids, dtypes.Int32), n)
	rows := Iota(x.Graph(), idx.Shape(), 0)
	return Reshape(Gather(flat, Stack([]*Node{rows, idx}, -1)), outer...)
}

// prepare computes the masks and the shifted targets.
func (lt *logitsTerms) prepare() {
	g := lt.ids.Graph()
	batchSize, seqLen := lt.ids.Shape().Dim(0), lt.ids.Shape().Dim(1)
	ids := ConvertDType(lt.ids, dtypes.Int32)
	if seqLen > 1 {
		lt.nextIDs = Concatenate([]*Node{SliceAxis(ids, 1, AxisRange(1, seqLen)), SliceAxis(ids, 1, AxisRange(seqLen-1, seqLen))}, 1)
	} else {
		lt.nextIDs = ids
	}
	pos := Iota(g, shapes.Make(dtypes.Int32, batchSize, seqLen), 1)
	notLast := ConvertDType(LessThan(pos, Scalar(g, dtypes.Int32, seqLen-1)), dtypes.Float32)
	lt.kdMask = OnesLike(notLast)
	lt.ceMask = notLast
	if lt.mask != nil {
		m := maskWeights(lt.mask)
		var next *Node
		if seqLen > 1 {
			next = Concatenate([]*Node{SliceAxis(m, 1, AxisRange(1, seqLen)), SliceAxis(m, 1, AxisRange(seqLen-1, seqLen))}, 1)
		} else {
			next = m
		}
		lt.kdMask = m
		lt.ceMask = Mul(Mul(lt.ceMask, m), next)
	}
}

// chunkSums returns Σ divergence·kdMask and Σ CE·ceMask over positions
// [start, end).
func (lt *logitsTerms) chunkSums(tHidden, sHidden, tHead, sHead *Node, start, end int) (div, ce *Node) {
	tz := StopGradient(headLogits(tHidden, tHead)) // [batchSize, c, vocab]
	sz := headLogits(sHidden, sHead)               // [batchSize, c, vocab]
	kd := SliceAxis(lt.kdMask, 1, AxisRange(start, end))
	cm := SliceAxis(lt.ceMask, 1, AxisRange(start, end))
	d := TokenDivergence(tz, sz, lt.opts.Logits)
	div, _ = maskedSum(d, kd)
	nll := Neg(gatherLast(MaxScalar(LogSoftmax(sz, -1), minLogProb), SliceAxis(lt.nextIDs, 1, AxisRange(start, end))))
	ce, _ = maskedSum(nll, cm)
	return div, ce
}

// build returns the detached-or-not loss values and the total to minimize:
// total = L_logits + CEWeight·L_ce with the right gradient.
func (lt *logitsTerms) build() (lossLogits, lossCE, total *Node) {
	lt.prepare()
	g := lt.ids.Graph()
	seqLen := lt.ids.Shape().Dim(1)
	countKD := MaxScalar(ReduceAllSum(lt.kdMask), 1)
	countCE := MaxScalar(ReduceAllSum(lt.ceMask), 1)
	tHead, sHead := cutRows(lt.tHead, lt.vocab), cutRows(lt.sHead, lt.vocab)
	w := lt.opts.CEWeight
	chunk := lt.opts.ChunkSize
	if chunk <= 0 || chunk >= seqLen {
		div, ce := lt.chunkSums(lt.tHidden, lt.sHidden, tHead, sHead, 0, seqLen)
		lossLogits, lossCE = Div(div, countKD), Div(ce, countCE)
		total = lossLogits
		if w > 0 {
			total = Add(total, MulScalar(lossCE, w))
		}
		return lossLogits, lossCE, total
	}
	// Chunked: each chunk's gradient with respect to its student hidden
	// states and the output projection is taken inside the forward pass; the
	// surrogate ⟨g, x⟩ − SG(⟨g, x⟩) (value 0) hands those gradients to the
	// outer backward pass, so no chunk's logits or softmax outlive it.
	head := passThrough(sHead) // a node of its own: not an ancestor of the hidden states (tied embeddings)
	divSum, ceSum, surrogate := ScalarZero(g, dtypes.Float32), ScalarZero(g, dtypes.Float32), ScalarZero(g, dtypes.Float32)
	var headGrad *Node // Σ over chunks of ∂obj/∂head, [vocab, studentHidden]: one buffer, not one per chunk
	var after *Node    // zero scalar depending on the previous chunk's gradient: orders the chunks
	for start := 0; start < seqLen; start += chunk {
		end := min(start+chunk, seqLen)
		th := SliceAxis(lt.tHidden, 1, AxisRange(start, end))
		shIn := SliceAxis(lt.sHidden, 1, AxisRange(start, end))
		if after != nil {
			// A data dependency (value +0), so that even a scheduler that runs
			// every ready node early cannot start this chunk's logits before
			// the previous chunk's gradient is done and its logits are dead.
			th = Add(th, ConvertDType(after, th.DType()))
			shIn = Add(shIn, ConvertDType(after, shIn.DType()))
		}
		sh := passThrough(shIn)
		div, ce := lt.chunkSums(th, sh, tHead, head, start, end)
		obj := Div(div, countKD)
		if w > 0 {
			obj = Add(obj, MulScalar(Div(ce, countCE), w))
		}
		grads := Gradient(obj, sh, head)
		surrogate = Add(surrogate, ConvertDType(ReduceAllSum(Mul(StopGradient(grads[0]), sh)), dtypes.Float32))
		if headGrad == nil {
			headGrad = grads[1]
		} else {
			headGrad = Add(headGrad, grads[1])
		}
		after = llm.ZeroAfter(grads[0], dtypes.Float32)
		divSum = Add(divSum, StopGradient(div))
		ceSum = Add(ceSum, StopGradient(ce))
	}
	surrogate = Add(surrogate, ConvertDType(ReduceAllSum(Mul(StopGradient(headGrad), head)), dtypes.Float32))
	lossLogits, lossCE = Div(divSum, countKD), Div(ceSum, countCE)
	total = lossLogits
	if w > 0 {
		total = Add(total, MulScalar(lossCE, w))
	}
	return lossLogits, lossCE, Add(total, Sub(surrogate, StopGradient(surrogate)))
}

// passThrough returns a new node equal to x whose gradient is passed
// through unchanged (Identity has no gradient in GoMLX).
func passThrough(x *Node) *Node {
	return IdentityWithCustomGradient(x, func(_, v *Node) *Node { return v })
}
