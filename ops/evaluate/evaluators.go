package evaluate

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// EvaluatorOptions configures NewModelEvaluators.
type EvaluatorOptions struct {
	BatchSize int          // sequences per forward pass / prompts per generation batch (default 8)
	DType     dtypes.DType // compute dtype (default float32)
	AddBOS    bool         // prepend BOS to every log-likelihood request (the harness's add_bos_token)
	Generate  bool         // also build a Generator (generation tasks)
	Code      CodeRunner   // sandbox for mbpp (nil: mbpp is refused)
	// Progress, optional, reports batches: what is "continuations" or "generations".
	Progress func(what string, done, total int)
}

// NewModelEvaluators builds the evaluators of a loaded model and its
// tokenizer: the harness encoder, a batched log-likelihood scorer, and with
// Generate a KV-cache greedy generator. The returned function releases the
// compiled graphs (not the model's weights).
func NewModelEvaluators(backend compute.Backend, m *llm.Model, tok *tokenize.Tokenizer, o EvaluatorOptions) (Evaluators, func(), error) {
	ev := Evaluators{Code: o.Code}
	var err error
	if ev.Encoder, err = NewHarnessEncoder(tok, o.AddBOS); err != nil {
		return ev, nil, err
	}
	prober, err := NewModelLogProber(backend, m, ModelOptions{BatchSize: o.BatchSize, DType: o.DType})
	if err != nil {
		return ev, nil, err
	}
	scorer := &SeqScorer{Model: prober}
	if o.Progress != nil {
		scorer.Progress = func(done, total int) { o.Progress("continuations", done, total) }
	}
	ev.Scorer = scorer
	var runner *llm.Runner
	if o.Generate {
		if runner, err = llm.NewRunner(backend, m); err != nil {
			prober.Close()
			return ev, nil, err
		}
		if o.DType != dtypes.InvalidDType {
			runner.WithDType(o.DType)
		}
		gen := NewModelGenerator(runner, tok, o.BatchSize)
		if o.Progress != nil {
			gen.Progress = func(done, total int) { o.Progress("generations", done, total) }
		}
		ev.Generator = gen
	}
	release := func() {
		prober.Close()
		if runner != nil {
			runner.Close()
		}
	}
	return ev, release, nil
}
