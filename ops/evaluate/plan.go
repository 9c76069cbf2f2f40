package evaluate

import (
	"fmt"
	"slices"
	"time"
)

// Plan is what an evaluation will do, with its time estimated from a
// measured run of its first batch (DryRunLoss, DryRunMC).
type Plan struct {
	Task string `json:"task"` // "lm_loss" or the multiple-choice format
	Docs int    `json:"docs"` // documents (LM loss) or task examples (multiple choice)
	// Sequences are the model inputs: sliding windows (LM loss) or
	// context+continuation pairs (multiple choice); Tokens their tokens.
	Sequences int   `json:"sequences"`
	Tokens    int64 `json:"tokens"`
	MaxSeqLen int   `json:"max_seq_len"` // longest input sequence (tokens)
	BatchSize int   `json:"batch_size"`
	Batches   int   `json:"batches"`
	// Memory, for a ModelLogProber (0 otherwise): the weights as held
	// (stored dtype) and one batch's forward activations, the lm_head
	// applied a chunk of positions at a time
	// (llm.Config.ChunkedForwardActivationBytes).
	WeightBytes     int64 `json:"weight_bytes"`
	ActivationBytes int64 `json:"activation_bytes"`
	// FirstBatchSeconds is the measured time of the first batch (for
	// multiple choice the longest sequences, which are sent first; graph
	// compilation included, so the estimate errs long);
	// EstimatedSeconds = FirstBatchSeconds × Batches.
	FirstBatchSeconds float64 `json:"first_batch_seconds"`
	EstimatedSeconds  float64 `json:"estimated_seconds"`
}

// DryRunLoss plans LMLoss(m, docs, opts) without running it: the windows
// and batches it would send, the memory, and the time at the rate of its
// first batch run on m. Nothing is written.
func DryRunLoss(m LogProber, docs [][]int32, opts LossOptions) (*Plan, error) {
	opts.Progress = nil
	return dryRun(m, "lm_loss", len(docs), func(rec LogProber) error {
		_, err := LMLoss(rec, docs, opts)
		return err
	})
}

// DryRunMC plans MultipleChoice(&SeqScorer{Model: m}, enc, docs, opts)
// without running it: the continuations and batches it would send, the
// memory, and the time at the rate of its first (longest) batch run on m.
// Nothing is written.
func DryRunMC(m LogProber, format Format, enc *Encoder, docs []Doc, opts MCOptions) (*Plan, error) {
	n := len(docs)
	if opts.Limit > 0 {
		n = min(n, opts.Limit)
	}
	return dryRun(m, string(format), n, func(rec LogProber) error {
		_, err := MultipleChoice(&SeqScorer{Model: rec}, enc, docs, opts)
		return err
	})
}

// dryRun calls run with a recorder standing for m, which answers every
// batch with zero log-probabilities instead of running the model (so run
// sends exactly the batches of the real evaluation), then runs and times
// the first recorded batch on m.
func dryRun(m LogProber, task string, docs int, run func(LogProber) error) (*Plan, error) {
	rec := &recordingProber{LogProber: m}
	if err := run(rec); err != nil {
		return nil, err
	}
	if rec.first == nil {
		return nil, fmt.Errorf("evaluate: dry run: the evaluation sends no sequences to the model")
	}
	p := &Plan{Task: task, Docs: docs, Sequences: rec.sequences, Tokens: rec.tokens, MaxSeqLen: rec.maxLen,
		BatchSize: max(1, m.BatchSize()), Batches: rec.batches}
	if mp, ok := m.(*ModelLogProber); ok {
		p.WeightBytes, p.ActivationBytes = mp.memoryPlan(min(p.BatchSize, p.Sequences), p.MaxSeqLen)
	}
	started := time.Now()
	if _, err := m.LogProbs(rec.first); err != nil {
		return nil, fmt.Errorf("evaluate: dry run on the first batch: %w", err)
	}
	p.FirstBatchSeconds = time.Since(started).Seconds()
	p.EstimatedSeconds = p.FirstBatchSeconds * float64(p.Batches)
	return p, nil
}

// recordingProber counts the batches, sequences and tokens sent to it and
// keeps the first batch, answering zero log-probabilities (not greedy).
type recordingProber struct {
	LogProber // MaxLen and BatchSize of the model planned
	first     [][]int32
	batches   int
	sequences int
	tokens    int64
	maxLen    int
}

// LogProbs implements LogProber without a model.
func (r *recordingProber) LogProbs(seqs [][]int32) ([]SeqLogProbs, error) {
	batch := max(1, r.BatchSize())
	for s := 0; s < len(seqs); s += batch {
		if r.first == nil {
			r.first = slices.Clone(seqs[s:min(s+batch, len(seqs))])
		}
		r.batches++
	}
	out := make([]SeqLogProbs, len(seqs))
	for i, s := range seqs {
		r.sequences++
		r.tokens += int64(len(s))
		r.maxLen = max(r.maxLen, len(s))
		n := max(len(s)-1, 0)
		out[i] = SeqLogProbs{LogProbs: make([]float64, n), Greedy: make([]bool, n)}
	}
	return out, nil
}
