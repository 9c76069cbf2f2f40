package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/gominitron/gominitron/results"
)

// CurveOptions selects the axes of TrainingCurves.
type CurveOptions struct {
	// X is "step" (default) or "tokens".
	X string
	// Metric is the TrainStep field on Y: "train_loss" (default), "val_loss",
	// "loss_logits", "loss_is", "loss_ce", "lr", "grad_norm" or
	// "tokens_per_sec". Steps where an optional metric is absent are skipped.
	Metric string
	// Title overrides the default title.
	Title string
	// LogY draws Y on a log scale.
	LogY bool
}

var metricLabels = map[string]string{
	"train_loss": "training loss", "val_loss": "validation loss", "loss_logits": "KD loss (logits)",
	"loss_is": "intermediate-state loss", "loss_ce": "cross-entropy loss", "lr": "learning rate",
	"grad_norm": "gradient norm", "tokens_per_sec": "tokens/s",
}

func metricValue(s results.TrainStep, metric string) (float64, bool) {
	opt := func(v *float64) (float64, bool) {
		if v == nil {
			return 0, false
		}
		return *v, true
	}
	switch metric {
	case "train_loss":
		return s.TrainLoss, true
	case "val_loss":
		return opt(s.ValLoss)
	case "loss_logits":
		return opt(s.LossLogits)
	case "loss_is":
		return opt(s.LossIS)
	case "loss_ce":
		return opt(s.LossCE)
	case "lr":
		return s.LR, true
	case "grad_norm":
		return s.GradNorm, true
	case "tokens_per_sec":
		return s.TokensPerSec, true
	}
	return 0, false
}

// maxPointsWithGlyphs: curves with at most this many points (validation
// curves, short runs) mark each point.
const maxPointsWithGlyphs = 40

// TrainingCurves overlays several runs (e.g. KD vs CE, width vs depth): one
// line per run of the chosen metric against steps or tokens.
func TrainingCurves(runs []results.Run, opts CurveOptions) (*plot.Plot, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("plots: TrainingCurves: no runs")
	}
	if opts.Metric == "" {
		opts.Metric = "train_loss"
	}
	if opts.X == "" {
		opts.X = "step"
	}
	label, ok := metricLabels[opts.Metric]
	if !ok {
		return nil, fmt.Errorf("plots: TrainingCurves: unknown metric %q", opts.Metric)
	}
	if opts.X != "step" && opts.X != "tokens" {
		return nil, fmt.Errorf("plots: TrainingCurves: x %q (want step or tokens)", opts.X)
	}
	title := opts.Title
	if title == "" {
		title = label
	}
	p := newPlot(title, opts.X, label)
	if opts.X == "tokens" {
		p.X.Tick.Marker = siTicks{}
	}
	if opts.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	var ys []float64
	for i, run := range runs {
		if run.Name == "" {
			return nil, fmt.Errorf("plots: TrainingCurves: run %d has no name", i)
		}
		var pts plotter.XYs
		for j, s := range run.Steps {
			y, ok := metricValue(s, opts.Metric)
			if !ok {
				continue
			}
			x := float64(s.Step)
			if opts.X == "tokens" {
				x = float64(s.Tokens)
			}
			if math.IsNaN(y) || math.IsInf(y, 0) {
				return nil, fmt.Errorf("plots: TrainingCurves: run %q step %d (row %d): %s is %v", run.Name, s.Step, j, opts.Metric, y)
			}
			if opts.LogY && y <= 0 {
				return nil, fmt.Errorf("plots: TrainingCurves: run %q step %d: %s %v not positive on a log axis", run.Name, s.Step, opts.Metric, y)
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			ys = append(ys, y)
		}
		if len(pts) == 0 {
			return nil, fmt.Errorf("plots: TrainingCurves: run %q has no %s values", run.Name, opts.Metric)
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: TrainingCurves: run %q: %w", run.Name, err)
		}
		line.Color, line.Width, line.Dashes = seriesColor(i), vg.Points(1.5), plotutil.Dashes(i)
		p.Add(line)
		if len(pts) <= maxPointsWithGlyphs {
			s, _ := plotter.NewScatter(pts)
			s.Color, s.Shape = seriesColor(i), plotutil.Shape(i)
			p.Add(s)
			p.Legend.Add(run.Name, line, s)
		} else {
			p.Legend.Add(run.Name, line)
		}
	}
	p.Legend.Top = true
	if !opts.LogY {
		lo, hi := minMax(ys)
		p.Y.Min, p.Y.Max = withLegendRoom(lo, hi, len(runs))
	}
	return p, nil
}
