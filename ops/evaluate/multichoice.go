package evaluate

import (
	"fmt"
	"math"

	"github.com/gominitron/gominitron/ops/llm"
)

// Delimiters of lm-eval-harness's default task config.
const (
	TargetDelimiter  = " "    // between a prompt and its answer
	FewshotDelimiter = "\n\n" // after each solved example
)

// MCOptions configures MultipleChoice.
type MCOptions struct {
	Shots int    // k solved examples prepended to each prompt (0 = zero-shot)
	Seed  uint64 // seed of the few-shot sampler
	Limit int    // evaluate only the first Limit docs (0 = all); shots still come from every doc
	// FirstN takes the first Shots other docs as examples instead of a
	// seeded sample (the harness's first_n sampler, used by MMLU).
	FirstN bool
	// Fewshot, when not empty, holds the examples instead of the task's
	// other docs (the harness's separate few-shot split, e.g. train or dev).
	Fewshot []Doc
}

// MCResult holds a task's scores.
type MCResult struct {
	Acc           float64 `json:"acc"`
	AccNorm       float64 `json:"acc_norm"`
	Stderr        float64 `json:"stderr"`          // standard error of acc
	AccNormStderr float64 `json:"acc_norm_stderr"` // standard error of acc_norm
	N             int     `json:"n"`
	// Per-doc details, in doc order.
	LogLiks [][]float64 `json:"-"` // [doc][choice]
	Pred    []int       `json:"-"` // argmax loglikelihood
	PredNrm []int       `json:"-"` // argmax loglikelihood / ChoiceLen
	// Contexts are the (context, continuation) strings scored, [doc][choice].
	Contexts [][][2]string `json:"-"`
}

// Contexts returns, for every doc, the (context, continuation) strings of
// each choice, few-shot prefix included. docs are the whole task; the
// first n are prompted (n ≤ len(docs)). Few-shot examples for doc i are
// drawn from the other docs with one generator seeded by seed, consumed in
// doc order (like the harness's per-task random.Random): k+1 distinct docs
// are sampled, doc i is dropped, the first k are kept.
//
// With firstN, the shots are the first k docs other than doc i instead.
func Contexts(docs []Doc, n, shots int, seed uint64, firstN ...bool) ([][][2]string, error) {
	return ContextsFrom(docs, nil, n, shots, seed, len(firstN) > 0 && firstN[0])
}

// ContextsFrom is Contexts with the examples drawn from fewshot (the
// harness's separate few-shot split: k drawn, none dropped) when it is not
// empty, else from docs.
func ContextsFrom(docs, fewshot []Doc, n, shots int, seed uint64, firstN bool) ([][][2]string, error) {
	pool := docs
	if len(fewshot) > 0 {
		pool = fewshot
	}
	pick, err := newShotPicker(len(pool), shots, seed, firstN, len(fewshot) > 0)
	if err != nil {
		return nil, err
	}
	out := make([][][2]string, n)
	for i := range n {
		prefix := docs[i].Description
		for _, j := range pick.shots(i) {
			prefix += pool[j].Shot() + FewshotDelimiter
		}
		d := docs[i]
		pairs := make([][2]string, len(d.Choices))
		for c := range d.Choices {
			if d.Partial {
				pairs[c] = [2]string{prefix + d.Choices[c], TargetDelimiter + d.Target}
			} else {
				pairs[c] = [2]string{prefix + d.Text, TargetDelimiter + d.Choices[c]}
			}
		}
		out[i] = pairs
	}
	return out, nil
}

// shotPicker chooses the few-shot examples of each doc as
// lm-evaluation-harness's samplers do: one random.Random(seed) consumed in
// doc order. When the examples come from the evaluated docs themselves, k+1
// distinct docs are drawn with its sample, the doc itself dropped and the
// first k kept (ContextSampler); from a separate few-shot split of pool docs,
// k are drawn. With firstN the examples are the first k (other) docs
// (FirstNSampler).
type shotPicker struct {
	rng      *PyRandom
	pool, k  int
	firstN   bool
	separate bool // examples from a separate split: nothing to drop
}

// newShotPicker picks shots examples among pool docs; separate says they are
// not the evaluated docs.
func newShotPicker(pool, shots int, seed uint64, firstN, separate bool) (*shotPicker, error) {
	if shots < 0 {
		return nil, fmt.Errorf("evaluate: negative number of shots %d", shots)
	}
	if separate && shots > pool {
		return nil, fmt.Errorf("evaluate: %d shots need at least %d few-shot docs, the few-shot file has %d", shots, shots, pool)
	}
	if !separate && shots > 0 && shots > pool-1 {
		return nil, fmt.Errorf("evaluate: %d shots need at least %d docs, the task has %d", shots, shots+1, pool)
	}
	return &shotPicker{rng: NewPyRandom(seed), pool: pool, k: shots, firstN: firstN, separate: separate}, nil
}

// shots returns the indices of doc i's examples (into the few-shot pool);
// call it for i in order.
func (p *shotPicker) shots(i int) []int {
	if p.k == 0 {
		return nil
	}
	if p.separate {
		i = -1 // no example is the doc itself
	}
	if p.firstN {
		var picked []int
		for j := 0; len(picked) < p.k; j++ {
			if j != i {
				picked = append(picked, j)
			}
		}
		return picked
	}
	draw := p.k + 1
	if p.separate {
		draw = p.k
	}
	var kept []int
	for _, j := range p.rng.Sample(p.pool, min(draw, p.pool)) {
		if j != i && len(kept) < p.k {
			kept = append(kept, j)
		}
	}
	return kept
}

// MultipleChoice scores a multiple-choice task: every (context, continuation)
// pair is encoded by enc and scored by sc in one call (the Scorer batches),
// then acc, acc_norm and their standard errors are computed.
func MultipleChoice(sc Scorer, enc *Encoder, docs []Doc, opts MCOptions) (*MCResult, error) {
	n := len(docs)
	if opts.Limit > 0 && opts.Limit < n {
		n = opts.Limit
	}
	ctxs, err := ContextsFrom(docs, opts.Fewshot, n, opts.Shots, opts.Seed, opts.FirstN)
	if err != nil {
		return nil, err
	}
	var reqs []Request
	for i, pairs := range ctxs {
		for c, p := range pairs {
			r, err := enc.EncodePair(p[0], p[1])
			if err != nil {
				return nil, fmt.Errorf("evaluate: doc %d choice %d: %w", i, c, err)
			}
			reqs = append(reqs, r)
		}
	}
	res, err := sc.LogLikelihoods(reqs)
	if err != nil {
		return nil, err
	}
	if len(res) != len(reqs) {
		return nil, fmt.Errorf("evaluate: scorer returned %d results for %d requests", len(res), len(reqs))
	}
	lls := make([][]float64, n)
	k := 0
	for i := range n {
		lls[i] = make([]float64, len(docs[i].Choices))
		for c := range lls[i] {
			lls[i][c] = res[k].LogLik
			k++
		}
	}
	r := ScoreMC(docs[:n], lls)
	r.Contexts = ctxs
	return r, nil
}

// ScoreMC turns per-choice log-likelihoods ([doc][choice]) into acc,
// acc_norm and standard errors. For partial (Winogrande) docs the
// continuation is shared, so acc_norm equals acc.
func ScoreMC(docs []Doc, lls [][]float64) *MCResult {
	r := &MCResult{N: len(docs), LogLiks: lls}
	var hits, hitsNorm []float64
	for i, d := range docs {
		norm := make([]float64, len(lls[i]))
		for c, ll := range lls[i] {
			if d.Partial {
				norm[c] = ll
			} else {
				norm[c] = ll / float64(max(1, d.ChoiceLen(c)))
			}
		}
		p, pn := llm.Argmax(lls[i]), llm.Argmax(norm)
		r.Pred, r.PredNrm = append(r.Pred, p), append(r.PredNrm, pn)
		hits = append(hits, boolFloat(p == d.Gold))
		hitsNorm = append(hitsNorm, boolFloat(pn == d.Gold))
	}
	r.Acc, r.Stderr = MeanStderr(hits)
	r.AccNorm, r.AccNormStderr = MeanStderr(hitsNorm)
	return r
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// MeanStderr returns the mean and the standard error of the mean with the
// sample (n-1) standard deviation, as lm-eval-harness's mean_stderr; for
// 0/1 values that is sqrt(p(1-p)/(n-1)). With fewer than 2 values the
// standard error is 0.
func MeanStderr(xs []float64) (mean, stderr float64) {
	n := float64(len(xs))
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}
