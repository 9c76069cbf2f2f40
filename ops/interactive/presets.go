package interactive

import (
	"fmt"
	"path/filepath"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
)

// NamedPlan is a plan with a short description, e.g. a preset.
type NamedPlan struct {
	Name string
	Plan prune.Plan
}

// Presets are a few representative plans for cfg (the static table a
// headless notebook shows instead of sliders): the full model, each width
// axis alone at about half, depth at 3/4, and a combined width cut.
func Presets(cfg *llm.Config) []NamedPlan {
	half := func(n int) int { return max(1, n/2) }
	threeQ := func(n int) int { return max(1, n*3/4) }
	perGroup := cfg.NumHeads / max(1, cfg.NumKVHeads)
	ps := []NamedPlan{
		{"full model", prune.Plan{}},
		{"FFN ½", prune.Plan{FFN: half(cfg.FFN)}},
		{"hidden ¾", prune.Plan{Hidden: threeQ(cfg.Hidden)}},
	}
	if perGroup > 1 {
		ps = append(ps, NamedPlan{"heads ½ per group", prune.Plan{HeadsPerGroup: half(perGroup)}})
	}
	if cfg.NumLayers > 1 {
		ps = append(ps, NamedPlan{fmt.Sprintf("depth: keep %d of %d layers", threeQ(cfg.NumLayers), cfg.NumLayers),
			prune.Plan{Layers: threeQ(cfg.NumLayers)}})
	}
	ps = append(ps, NamedPlan{"width: hidden ¾ + FFN ½", prune.Plan{Hidden: threeQ(cfg.Hidden), FFN: half(cfg.FFN)}})
	return ps
}

// Sweep evaluates each plan in order.
func (e *Explorer) Sweep(plans []NamedPlan) ([]*Result, error) {
	out := make([]*Result, len(plans))
	for i, np := range plans {
		r, err := e.Evaluate(np.Plan)
		if err != nil {
			return nil, fmt.Errorf("plan %q: %w", np.Name, err)
		}
		out[i] = r
	}
	return out, nil
}

// Materialize prunes the source model with plan p (prune.Apply, selecting
// units from the Explorer's scores) and exports it to outDir as a Hugging
// Face folder with pruning.json (prune.Export). source and scoresPath are
// recorded in the lineage (either may be ""); the tokenizer and generation
// config files are copied from source when present. outDir must not exist or
// be empty. It returns the export's lineage.
func (e *Explorer) Materialize(p prune.Plan, outDir, source, scoresPath string) (*prune.Lineage, error) {
	if outDir == "" {
		return nil, fmt.Errorf("interactive.Materialize: empty output folder")
	}
	pr, err := prune.Apply(e.model, p, e.imp)
	if err != nil {
		return nil, err
	}
	if source != "" {
		if abs, err := filepath.Abs(source); err == nil {
			source = abs
		}
	}
	lin := prune.NewLineage(source, scoresPath, e.model.Config, p, pr)
	if err := prune.Export(outDir, pr, lin, llm.SaveOptions{DType: e.bytesDType}); err != nil {
		return nil, err
	}
	return lin, nil
}
