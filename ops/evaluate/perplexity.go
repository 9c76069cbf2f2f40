package evaluate

import (
	"fmt"
	"math"

	"github.com/gominitron/gominitron/results"
)

// LossOptions configures LMLoss.
type LossOptions struct {
	SeqLen    int   // model input tokens per window (0: the model's MaxLen)
	Stride    int   // new tokens predicted per window, ≤ SeqLen (0: SeqLen, i.e. disjoint windows)
	MaxTokens int64 // stop after this many predicted tokens (0: all)
	// Progress, if set, is called after each batch with the predicted
	// tokens done so far and the total planned.
	Progress func(done, total int64)
}

// window is one model call: doc[start:end] is fed, and the targets
// doc[first:end] (the last end-first positions) are counted.
type window struct {
	doc               int
	start, first, end int
}

// planWindows lays sliding windows over each document: every token but a
// document's first is predicted exactly once, with up to seqLen tokens of
// context (at least seqLen-stride+1 past the window's first target).
func planWindows(docs [][]int32, seqLen, stride int, maxTokens int64) ([]window, int64) {
	var ws []window
	var total int64
	for d, doc := range docs {
		for a := 1; a < len(doc); {
			b := min(a+stride, len(doc))
			if maxTokens > 0 && total+int64(b-a) > maxTokens {
				b = a + int(maxTokens-total)
			}
			if b <= a {
				return ws, total
			}
			ws = append(ws, window{doc: d, start: max(0, b-1-seqLen), first: a, end: b})
			total += int64(b - a)
			a = b
		}
	}
	return ws, total
}

// LMLoss is the mean next-token cross-entropy (nats) of the model over the
// documents (token id sequences; a document's first token is context only),
// with sliding windows of opts.SeqLen input tokens advancing by opts.Stride,
// sent in batches of m.BatchSize() windows.
func LMLoss(m LogProber, docs [][]int32, opts LossOptions) (*results.LMEval, error) {
	seqLen := opts.SeqLen
	if seqLen <= 0 {
		seqLen = m.MaxLen()
	}
	if seqLen > m.MaxLen() {
		return nil, fmt.Errorf("evaluate: seq-len %d exceeds the model's max length %d", seqLen, m.MaxLen())
	}
	stride := opts.Stride
	if stride <= 0 {
		stride = seqLen
	}
	if stride > seqLen {
		return nil, fmt.Errorf("evaluate: stride %d exceeds seq-len %d", stride, seqLen)
	}
	ws, total := planWindows(docs, seqLen, stride, opts.MaxTokens)
	if total == 0 {
		return nil, fmt.Errorf("evaluate: no tokens to predict (%d documents; each needs at least 2 tokens)", len(docs))
	}
	batch := max(1, m.BatchSize())
	var sum float64
	var done int64
	for s := 0; s < len(ws); s += batch {
		part := ws[s:min(s+batch, len(ws))]
		seqs := make([][]int32, len(part))
		for i, w := range part {
			seqs[i] = docs[w.doc][w.start:w.end]
		}
		out, err := m.LogProbs(seqs)
		if err != nil {
			return nil, err
		}
		for i, w := range part {
			lp := out[i].LogProbs
			if len(lp) != len(seqs[i])-1 {
				return nil, fmt.Errorf("evaluate: model returned %d log-probs for a window of %d tokens", len(lp), len(seqs[i]))
			}
			for _, v := range lp[len(lp)-(w.end-w.first):] {
				sum -= v
			}
			done += int64(w.end - w.first)
		}
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	loss := sum / float64(total)
	return &results.LMEval{LMLoss: loss, Perplexity: math.Exp(loss), Tokens: total}, nil
}
