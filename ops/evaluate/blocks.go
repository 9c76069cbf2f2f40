package evaluate

import (
	"fmt"

	"github.com/gomlx/compute"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// BlockSweepOptions configures BlockSweepMC.
type BlockSweepOptions struct {
	BlockSize int    // layers removed together (K ≥ 1)
	Metric    string // "acc" (default) or "acc_norm"
	Task      string // recorded in the result (e.g. the task file)
	MC        MCOptions
	Model     ModelOptions // SkipLayers is set per block
	// Progress, if set, is called after the baseline (start -1) and after
	// each block start with that start and its score.
	Progress func(start int, score float64)
}

// BlockSweepMC scores every contiguous block of BlockSize layers by the
// downstream accuracy of the model with that block removed (the depth
// pruning recipe: drop the block whose removal hurts accuracy least), plus
// the full model as baseline. Values[s] is the score without layers
// s … s+BlockSize−1; higher is better.
func BlockSweepMC(backend compute.Backend, m *llm.Model, enc *Encoder, docs []Doc, opts BlockSweepOptions) (*results.BlockScores, error) {
	cfg := m.Config
	k := opts.BlockSize
	if k < 1 || k >= cfg.NumLayers {
		return nil, fmt.Errorf("evaluate: block size %d must be in [1, %d)", k, cfg.NumLayers)
	}
	metric := opts.Metric
	if metric == "" {
		metric = "acc"
	}
	if metric != "acc" && metric != "acc_norm" {
		return nil, fmt.Errorf("evaluate: block metric %q: want acc or acc_norm", metric)
	}
	score := func(skip []bool) (float64, error) {
		mo := opts.Model
		mo.SkipLayers = skip
		p, err := NewModelLogProber(backend, m, mo)
		if err != nil {
			return 0, err
		}
		defer p.Close()
		r, err := MultipleChoice(&SeqScorer{Model: p}, enc, docs, opts.MC)
		if err != nil {
			return 0, err
		}
		if metric == "acc_norm" {
			return r.AccNorm, nil
		}
		return r.Acc, nil
	}
	base, err := score(nil)
	if err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		opts.Progress(-1, base)
	}
	out := &results.BlockScores{Metric: metric, Task: opts.Task, HigherIsBetter: true, BlockSize: k, Baseline: &base}
	for s := 0; s+k <= cfg.NumLayers; s++ {
		skip := make([]bool, cfg.NumLayers)
		for l := s; l < s+k; l++ {
			skip[l] = true
		}
		v, err := score(skip)
		if err != nil {
			return nil, fmt.Errorf("evaluate: block %d..%d: %w", s, s+k-1, err)
		}
		out.Values = append(out.Values, v)
		if opts.Progress != nil {
			opts.Progress(s, v)
		}
	}
	return out, nil
}
