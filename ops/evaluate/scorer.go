package evaluate

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Tokenizer is the text → token ids half of a tokenizer, without special
// tokens (no BOS/EOS added).
type Tokenizer interface {
	Encode(text string) ([]int32, error)
}

// TokenizerFunc adapts a function to Tokenizer.
type TokenizerFunc func(text string) ([]int32, error)

// Encode calls f.
func (f TokenizerFunc) Encode(text string) ([]int32, error) { return f(text) }

// Request asks for the log-likelihood of Continuation given Context.
type Request struct {
	Context      []int32 // conditioning tokens; must not be empty
	Continuation []int32 // tokens to score; must not be empty
}

// Result is the answer to one Request.
type Result struct {
	LogLik float64 // Σ_t log p(continuation[t] | context, continuation[:t])
	Greedy bool    // every continuation token is the model's argmax
}

// Scorer computes log-likelihoods of continuations (lm-eval-harness's
// loglikelihood request type).
type Scorer interface {
	LogLikelihoods(reqs []Request) ([]Result, error)
}

// SeqLogProbs are the per-token scores of one sequence s of n tokens:
// LogProbs[t-1] = log p(s[t] | s[:t]) and Greedy[t-1] = (s[t] is the argmax),
// for t = 1..n-1.
type SeqLogProbs struct {
	LogProbs []float64
	Greedy   []bool
}

// LogProber is a causal language model seen from evaluation: it scores
// every next token of whole sequences. A sequence of n tokens is fed as its
// first n-1 tokens, so n-1 must not exceed MaxLen.
type LogProber interface {
	LogProbs(seqs [][]int32) ([]SeqLogProbs, error)
	MaxLen() int    // longest model input (tokens)
	BatchSize() int // sequences per forward pass the caller should aim for
}

// SeqScorer is the Scorer built on a LogProber, with lm-eval-harness's
// truncation: the sequence context+continuation is left-truncated to
// MaxLen()+1 tokens. Requests are sorted by length (longest first) and sent
// in batches of BatchSize() sequences.
type SeqScorer struct {
	Model    LogProber
	Progress func(done, total int) // optional, called after each batch
}

// LogLikelihoods implements Scorer.
func (s *SeqScorer) LogLikelihoods(reqs []Request) ([]Result, error) {
	maxLen := s.Model.MaxLen()
	seqs := make([][]int32, len(reqs))
	for i, r := range reqs {
		if len(r.Context) == 0 {
			return nil, fmt.Errorf("evaluate: request %d has an empty context (use the BOS token as context)", i)
		}
		if len(r.Continuation) == 0 {
			return nil, fmt.Errorf("evaluate: request %d has an empty continuation", i)
		}
		if len(r.Continuation) > maxLen {
			return nil, fmt.Errorf("evaluate: request %d: continuation of %d tokens exceeds the model's max length %d", i, len(r.Continuation), maxLen)
		}
		seq := make([]int32, 0, len(r.Context)+len(r.Continuation))
		seq = append(append(seq, r.Context...), r.Continuation...)
		if len(seq) > maxLen+1 {
			seq = seq[len(seq)-(maxLen+1):]
		}
		seqs[i] = seq
	}
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(seqs[order[a]]) > len(seqs[order[b]]) })

	results := make([]Result, len(reqs))
	batch := max(1, s.Model.BatchSize())
	for start := 0; start < len(order); start += batch {
		idx := order[start:min(start+batch, len(order))]
		bs := make([][]int32, len(idx))
		for j, i := range idx {
			bs[j] = seqs[i]
		}
		out, err := s.Model.LogProbs(bs)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			n := len(reqs[i].Continuation)
			lp, gr := out[j].LogProbs, out[j].Greedy
			if len(lp) != len(bs[j])-1 {
				return nil, fmt.Errorf("evaluate: model returned %d log-probs for a sequence of %d tokens", len(lp), len(bs[j]))
			}
			res := Result{Greedy: true}
			for t := len(lp) - n; t < len(lp); t++ {
				res.LogLik += lp[t]
				res.Greedy = res.Greedy && gr[t]
			}
			results[i] = res
		}
		if s.Progress != nil {
			s.Progress(min(start+batch, len(order)), len(order))
		}
	}
	return results, nil
}

// Encoder turns (context, continuation) strings into a Request the way
// lm-eval-harness's HFLM does for decoder-only models.
type Encoder struct {
	Tok Tokenizer
	// PrefixToken is the context used when the context string is empty
	// (the harness's prefix_token_id: BOS, else EOS). Negative: none.
	PrefixToken int32
	// AddBOS prepends PrefixToken to every encoding (the harness's
	// add_bos_token=True); false by default, as in the harness.
	AddBOS bool
}

// EncodePair tokenizes one request: trailing whitespace of the context is
// moved to the start of the continuation; then context+continuation and the
// context are encoded, and the continuation tokens are the whole encoding
// after the context's length.
func (e *Encoder) EncodePair(context, continuation string) (Request, error) {
	if context == "" {
		if e.PrefixToken < 0 {
			return Request{}, fmt.Errorf("evaluate: empty context and no prefix (BOS) token to stand for it")
		}
		cont, err := e.encode(continuation)
		if err != nil {
			return Request{}, err
		}
		if e.AddBOS {
			cont = cont[1:]
		}
		return Request{Context: []int32{e.PrefixToken}, Continuation: cont}, nil
	}
	trimmed := strings.TrimRightFunc(context, unicode.IsSpace)
	if n := len(context) - len(trimmed); n > 0 {
		continuation = context[len(trimmed):] + continuation
		context = trimmed
	}
	whole, err := e.encode(context + continuation)
	if err != nil {
		return Request{}, err
	}
	ctx, err := e.encode(context)
	if err != nil {
		return Request{}, err
	}
	if len(ctx) > len(whole) {
		return Request{}, fmt.Errorf("evaluate: context %q encodes to more tokens than context+continuation", context)
	}
	if len(ctx) == 0 { // a whitespace-only context: score the whole continuation after the prefix token
		if e.PrefixToken < 0 {
			return Request{}, fmt.Errorf("evaluate: context %q encodes to no tokens and there is no prefix (BOS) token", context)
		}
		return Request{Context: []int32{e.PrefixToken}, Continuation: whole}, nil
	}
	return Request{Context: ctx, Continuation: whole[len(ctx):]}, nil
}

func (e *Encoder) encode(text string) ([]int32, error) {
	ids, err := e.Tok.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("evaluate: tokenizing %q: %w", abbreviate(text), err)
	}
	if e.AddBOS {
		if e.PrefixToken < 0 {
			return nil, fmt.Errorf("evaluate: AddBOS set but no BOS token id")
		}
		ids = append([]int32{e.PrefixToken}, ids...)
	}
	return ids, nil
}

func abbreviate(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return s
}
