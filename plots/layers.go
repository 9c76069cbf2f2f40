package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gominitron/gominitron/results"
)

// LayerImportance draws the paper's layer-importance figure: the LM loss of
// the model with each single layer removed (left axis, with the full model's
// loss as a dashed line) and the Block Influence of each layer (right axis).
func LayerImportance(imp *results.Importance) (*plot.Plot, error) {
	if imp == nil {
		return nil, fmt.Errorf("plots: LayerImportance: nil importance")
	}
	if err := finite("drop_one_lm_loss", imp.DropOneLMLoss); err != nil {
		return nil, err
	}
	if err := finite("bi", imp.BI); err != nil {
		return nil, err
	}
	if err := finite("lm_loss", []float64{imp.LMLoss}); err != nil {
		return nil, err
	}
	n := len(imp.BI)
	if len(imp.DropOneLMLoss) != n {
		return nil, fmt.Errorf("plots: drop_one_lm_loss has %d layers, bi has %d", len(imp.DropOneLMLoss), n)
	}
	layers := indices(n, 0)

	p := newPlot("Layer importance", "layer removed / layer", "LM loss with the layer removed")
	p.X.Tick.Marker = integerTicks{}
	// Headroom at the top keeps the legend off the curves.
	const headroom = 0.35
	lo, hi := minMax(imp.DropOneLMLoss, []float64{imp.LMLoss})
	lo, hi = padRange(lo, hi, 0.05)
	hi += headroom * (hi - lo)
	biLo, biHi := minMax(imp.BI)
	biLo = min(biLo, 0)
	_, biHi = padRange(biLo, biHi, 0.05)
	biHi += headroom * (biHi - biLo)
	right := &rightAxis{label: "Block Influence (1 − cos)", lo: biLo, hi: biHi, color: seriesColor(1)}

	base := hLine{Y: imp.LMLoss, Style: dashed(gray)}
	p.Add(base)
	lossLine, lossPts, err := plotter.NewLinePoints(xys(layers, imp.DropOneLMLoss))
	if err != nil {
		return nil, fmt.Errorf("plots: drop_one_lm_loss: %w", err)
	}
	lossLine.Color, lossLine.Width = seriesColor(0), vg.Points(1.5)
	lossPts.Color, lossPts.Shape, lossPts.Radius = seriesColor(0), draw.CircleGlyph{}, vg.Points(2.5)

	biY := make([]float64, n)
	p.Y.Min, p.Y.Max = lo, hi
	for i, b := range imp.BI {
		biY[i] = right.toPrimary(p, b)
	}
	biLine, biPts, err := plotter.NewLinePoints(xys(layers, biY))
	if err != nil {
		return nil, fmt.Errorf("plots: bi: %w", err)
	}
	biLine.Color, biLine.Width, biLine.Dashes = seriesColor(1), vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(2)}
	biPts.Color, biPts.Shape, biPts.Radius = seriesColor(1), draw.TriangleGlyph{}, vg.Points(2.5)

	p.Add(lossLine, lossPts, biLine, biPts, right)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = lo, hi
	p.Legend.Add("LM loss, layer removed", lossLine, lossPts)
	p.Legend.Add(fmt.Sprintf("full model (%.3f)", imp.LMLoss), &plotter.Line{LineStyle: dashed(gray)})
	p.Legend.Add("Block Influence (right axis)", biLine, biPts)
	p.Legend.Top = true
	p.Legend.XOffs = -right.width(p) - vg.Points(4)
	p.Legend.YOffs = -vg.Points(4)
	return p, nil
}

// BlockScores draws the contiguous-block sweep: the score of the model with
// layers s … s+k−1 removed, for every start s. It uses imp.BlockScores (a
// downstream metric) when present, else imp.BlockLMLoss. The best block
// (highest accuracy or lowest loss) is marked.
func BlockScores(imp *results.Importance) (*plot.Plot, error) {
	if imp == nil {
		return nil, fmt.Errorf("plots: BlockScores: nil importance")
	}
	var (
		values   []float64
		k        int
		metric   string
		higher   bool
		baseline *float64
	)
	switch {
	case imp.BlockScores != nil:
		bs := imp.BlockScores
		values, k, metric, higher, baseline = bs.Values, bs.BlockSize, bs.Metric, bs.HigherIsBetter, bs.Baseline
		if bs.Task != "" {
			metric = fmt.Sprintf("%s (%s)", bs.Metric, bs.Task)
		}
	case imp.BlockLMLoss != nil:
		values, k, metric, higher = imp.BlockLMLoss, imp.BlockSize, "LM loss", false
		if imp.LMLoss != 0 {
			baseline = &imp.LMLoss
		}
	default:
		return nil, fmt.Errorf("plots: BlockScores: importance has neither block_scores nor block_lm_loss")
	}
	if err := finite("block scores", values); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, fmt.Errorf("plots: BlockScores: block size %d < 1", k)
	}
	best := 0
	for i, v := range values {
		if (higher && v > values[best]) || (!higher && v < values[best]) {
			best = i
		}
	}
	starts := indices(len(values), 0)
	p := newPlot(fmt.Sprintf("Dropping %d contiguous layers", k), "first layer of the removed block", metric)
	p.X.Tick.Marker = integerTicks{}
	line, pts, err := plotter.NewLinePoints(xys(starts, values))
	if err != nil {
		return nil, err
	}
	line.Color, line.Width = seriesColor(0), vg.Points(1.5)
	pts.Color, pts.Shape, pts.Radius = seriesColor(0), draw.CircleGlyph{}, vg.Points(2.5)
	if baseline != nil {
		p.Add(hLine{Y: *baseline, Style: dashed(gray)})
		p.Legend.Add(fmt.Sprintf("full model (%.3g)", *baseline), &plotter.Line{LineStyle: dashed(gray)})
	}
	bestPt, _ := plotter.NewScatter(xys([]float64{float64(best)}, []float64{values[best]}))
	bestPt.Color, bestPt.Shape, bestPt.Radius = seriesColor(2), draw.RingGlyph{}, vg.Points(6)
	p.Add(line, pts, bestPt)
	p.Legend.Add(metric, line, pts)
	p.Legend.Add(fmt.Sprintf("best: layers %d–%d (%.3g)", best, best+k-1, values[best]), bestPt)
	p.Legend.Top = !higher
	lo, hi := minMax(values)
	if baseline != nil {
		lo, hi = min(lo, *baseline), max(hi, *baseline)
	}
	p.Y.Min, p.Y.Max = padRange(lo, hi, 0.08)
	p.X.Min, p.X.Max = -0.5, float64(len(values))-0.5
	return p, nil
}
