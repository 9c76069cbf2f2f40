package prune

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
)

// PlanParams is the parameter count of the model plan p makes from cfg.
func PlanParams(cfg *llm.Config, p Plan) (int64, error) {
	est, err := p.Estimate(cfg, dtypes.Float32)
	if err != nil {
		return 0, err
	}
	return est.To.Params, nil
}

// WidthGrid is the granularity of width targets: 1/16 of the hidden size and
// 1/32 of the FFN size (each at least 1).
func WidthGrid(cfg *llm.Config) (hiddenStep, ffnStep int) {
	return max(1, cfg.Hidden/16), max(1, cfg.FFN/32)
}

// WidthPlan returns the width-only plan (hidden and FFN cut by about the
// same fraction, on the WidthGrid; heads per group kept at headsPerGroup,
// 0 = all) whose parameter count is closest to target, and that count.
func WidthPlan(cfg *llm.Config, target int64, headsPerGroup int) (Plan, int64, error) {
	hs, fs := WidthGrid(cfg)
	best, bestParams, bestErr := Plan{}, int64(0), math.Inf(1)
	try := func(p Plan) error {
		n, err := PlanParams(cfg, p)
		if err != nil {
			return err
		}
		if d := math.Abs(float64(n - target)); d < bestErr {
			best, bestParams, bestErr = p, n, d
		}
		return nil
	}
	// Balanced cut: FFN fraction = hidden fraction.
	for h := hs; h <= cfg.Hidden; h += hs {
		f := max(fs, int(math.Round(float64(cfg.FFN)*float64(h)/float64(cfg.Hidden)/float64(fs)))*fs)
		if err := try(Plan{Hidden: h, FFN: min(f, cfg.FFN), HeadsPerGroup: headsPerGroup}); err != nil {
			return best, 0, err
		}
	}
	// Refine the FFN size at the chosen hidden size.
	h := best.Hidden
	for f := fs; f <= cfg.FFN; f += fs {
		if err := try(Plan{Hidden: h, FFN: f, HeadsPerGroup: headsPerGroup}); err != nil {
			return best, 0, err
		}
	}
	if bestParams == 0 {
		return best, 0, fmt.Errorf("prune: no width plan of %s for %d parameters", ShapeOf(cfg), target)
	}
	return best, bestParams, nil
}

// DepthPlan keeps the given number of layers, the most important by drop-one
// LM loss.
func DepthPlan(layers int) Plan {
	return Plan{Layers: layers, LayerScore: LayerScoreDropOneLMLoss}
}

// SizedPlan is a plan with a name ("L<layers> q<heads> h<hidden> f<ffn>")
// and the parameter count of the model it makes.
type SizedPlan struct {
	Name   string `json:"name"`
	Plan   Plan   `json:"plan"`
	Params int64  `json:"params"`
}

// EnumerateShapes lists the plans (layers, heads per group, hidden, FFN;
// layers chosen by drop-one LM loss) whose parameter count is within
// ±tol·params, on the WidthGrid, with at least half the layers (P1 §4's
// architecture search space). Order: layers, heads per group, hidden, FFN,
// each descending.
func EnumerateShapes(cfg *llm.Config, params int64, tol float64) ([]SizedPlan, error) {
	if params <= 0 || tol < 0 {
		return nil, fmt.Errorf("prune: enumerate shapes: budget %d and tolerance %g must be > 0 and ≥ 0", params, tol)
	}
	hs, fs := WidthGrid(cfg)
	perGroup := cfg.NumHeads / cfg.NumKVHeads
	var out []SizedPlan
	for layers := cfg.NumLayers; layers >= max(1, cfg.NumLayers/2); layers-- {
		for hpg := perGroup; hpg >= 1; hpg-- {
			for h := cfg.Hidden; h >= hs; h -= hs {
				for f := cfg.FFN; f >= fs; f -= fs {
					p := Plan{Hidden: h, FFN: f, HeadsPerGroup: hpg}
					if layers < cfg.NumLayers {
						p.Layers, p.LayerScore = layers, LayerScoreDropOneLMLoss
					}
					n, err := PlanParams(cfg, p)
					if err != nil {
						return nil, err
					}
					if math.Abs(float64(n-params)) <= tol*float64(params) {
						out = append(out, SizedPlan{Name: fmt.Sprintf("L%d q%d h%d f%d", layers, hpg*cfg.NumKVHeads, h, f), Plan: p, Params: n})
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("prune: no shape of %s within ±%.0f%% of %d parameters", ShapeOf(cfg), 100*tol, params)
	}
	return out, nil
}
