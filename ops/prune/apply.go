package prune

import (
	"fmt"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// Pruned is the outcome of Apply: a new model and what it kept.
type Pruned struct {
	Model *llm.Model // new config (explicit head_dim) + new weight tensors
	Plan  Plan       // the resolved plan (every target explicit)
	Kept  *Kept      // kept indices in source numbering (lineage)
}

// Apply prunes m to the plan p, choosing the kept units from imp (which may
// be nil when the plan needs no scores: a no-op or explicit drop-layers). The
// result is a new model: every tensor is a fresh copy and m is not modified.
// The weights of the result are checked against the new config's tensor
// list, so a pruned model always loads back.
func Apply(m *llm.Model, p Plan, imp *results.Importance) (*Pruned, error) {
	if m == nil || m.Config == nil {
		return nil, fmt.Errorf("prune: nil model or config")
	}
	r, sel, cfg, err := planFor(m.Config, p, imp)
	if err != nil {
		return nil, err
	}
	weights, err := sliceWeights(m.Config, m.Weights, sel)
	if err != nil {
		return nil, err
	}
	if err := llm.CheckWeights(cfg, weights); err != nil {
		return nil, fmt.Errorf("prune: internal error, pruned weights do not match the pruned config: %w", err)
	}
	// Source stays the source folder: SaveModel then refuses to write into it
	// and copies its tokenizer files (the vocabulary is never pruned).
	return &Pruned{Model: &llm.Model{Config: cfg, Weights: weights, Source: m.Source}, Plan: r, Kept: sel.kept()}, nil
}

// planFor resolves plan p for a source config, selects the kept units from
// imp and returns the resolved plan, the selection and the pruned config.
func planFor(src *llm.Config, p Plan, imp *results.Importance) (Plan, *selection, *llm.Config, error) {
	sel, err := selectUnits(src, p, imp)
	if err != nil {
		return Plan{}, nil, nil, err
	}
	return sel.plan, sel, targetConfig(src, sel.plan, sel.layers), nil
}
