package reproduce

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
)

// planParams is the parameter count of the model plan p makes from cfg.
func planParams(cfg *llm.Config, p prune.Plan) (int64, error) {
	est, err := p.Estimate(cfg, dtypes.Float32)
	if err != nil {
		return 0, err
	}
	return est.To.Params, nil
}

// widthSteps are the granularities of the hidden and FFN targets: 1/16 of
// the hidden size and 1/32 of the FFN size (at least 1).
func widthSteps(cfg *llm.Config) (hiddenStep, ffnStep int) {
	return max(1, cfg.Hidden/16), max(1, cfg.FFN/32)
}

// WidthPlan returns the width-only plan (hidden and FFN cut by about the
// same fraction; heads per group kept at headsPerGroup, 0 = all) whose
// parameter count is closest to target, and that count.
func WidthPlan(cfg *llm.Config, target int64, headsPerGroup int) (prune.Plan, int64, error) {
	hs, fs := widthSteps(cfg)
	best, bestParams, bestErr := prune.Plan{}, int64(0), math.Inf(1)
	try := func(p prune.Plan) error {
		n, err := planParams(cfg, p)
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
		if err := try(prune.Plan{Hidden: h, FFN: min(f, cfg.FFN), HeadsPerGroup: headsPerGroup}); err != nil {
			return best, 0, err
		}
	}
	// Refine the FFN size at the chosen hidden size.
	h := best.Hidden
	for f := fs; f <= cfg.FFN; f += fs {
		if err := try(prune.Plan{Hidden: h, FFN: f, HeadsPerGroup: headsPerGroup}); err != nil {
			return best, 0, err
		}
	}
	if bestParams == 0 {
		return best, 0, fmt.Errorf("reproduce: no width plan of %s for %d parameters", shapeString(cfg), target)
	}
	return best, bestParams, nil
}

// DepthPlan keeps the layers most important by drop-one LM loss.
func DepthPlan(layers int) prune.Plan {
	return prune.Plan{Layers: layers, LayerScore: prune.LayerScoreDropOneLMLoss}
}

func shapeString(cfg *llm.Config) string { return prune.ShapeOf(cfg).String() }

// relErr is |a − b| / b.
func relErr(a, b int64) float64 { return math.Abs(float64(a-b)) / float64(b) }

// planString describes a plan's non-zero targets, e.g. "hidden 96, FFN 192,
// 1 head per group".
func planString(p prune.Plan) string {
	var parts []string
	if p.Hidden > 0 {
		parts = append(parts, fmt.Sprintf("hidden %d", p.Hidden))
	}
	if p.FFN > 0 {
		parts = append(parts, fmt.Sprintf("FFN %d", p.FFN))
	}
	if p.HeadsPerGroup > 0 {
		parts = append(parts, fmt.Sprintf("%d head(s) per KV group", p.HeadsPerGroup))
	}
	if p.Layers > 0 {
		parts = append(parts, fmt.Sprintf("%d layers by %s", p.Layers, p.LayerScore))
	}
	if len(parts) == 0 {
		return "no-op"
	}
	return strings.Join(parts, ", ")
}
