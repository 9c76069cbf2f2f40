package plots

import (
	"fmt"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gominitron/gominitron/results"
)

// axisOrder is the display order of the importance axes; other axes follow
// alphabetically.
var axisOrder = map[string]int{"ffn": 0, "heads": 1, "hidden": 2, "bi": 3, "drop_one_lm_loss": 4}

// RankStability draws the Spearman rank correlation between the scores of
// disjoint calibration parts, per axis: one dot per pair of parts and a bar
// for the mean. Several entries (for example 64 and 1024 samples per part)
// are drawn side by side in different colors.
func RankStability(stabs []results.RankStability) (*plot.Plot, error) {
	if len(stabs) == 0 {
		return nil, fmt.Errorf("plots: RankStability: no data")
	}
	axisSet := map[string]bool{}
	for i, s := range stabs {
		if len(s.Pairs) == 0 {
			return nil, fmt.Errorf("plots: RankStability: entry %d has no pairs", i)
		}
		for j, pair := range s.Pairs {
			if len(pair.Spearman) == 0 {
				return nil, fmt.Errorf("plots: RankStability: entry %d pair %d has no axes", i, j)
			}
			for axis, rho := range pair.Spearman {
				if err := finite(fmt.Sprintf("rank_stability[%d].pairs[%d].spearman[%s]", i, j, axis), []float64{rho}); err != nil {
					return nil, err
				}
				if rho < -1-1e-9 || rho > 1+1e-9 {
					return nil, fmt.Errorf("plots: RankStability: spearman %v of axis %s outside [-1, 1]", rho, axis)
				}
				axisSet[axis] = true
			}
		}
	}
	axes := make([]string, 0, len(axisSet))
	for a := range axisSet {
		axes = append(axes, a)
	}
	sort.Slice(axes, func(i, j int) bool {
		oi, iok := axisOrder[axes[i]]
		oj, jok := axisOrder[axes[j]]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return axes[i] < axes[j]
	})

	p := newPlot("Rank stability across calibration parts", "", "Spearman ρ between parts")
	p.NominalX(axes...)
	lo := 1.0
	const groupWidth = 0.6
	for i, s := range stabs {
		offset := 0.0
		if len(stabs) > 1 {
			offset = -groupWidth/2 + groupWidth*float64(i)/float64(len(stabs)-1)
		}
		var dots, means plotter.XYs
		for a, axis := range axes {
			var sum float64
			var n int
			for _, pair := range s.Pairs {
				if rho, ok := pair.Spearman[axis]; ok {
					dots = append(dots, plotter.XY{X: float64(a) + offset, Y: rho})
					sum += rho
					n++
					lo = min(lo, rho)
				}
			}
			if n > 0 {
				means = append(means, plotter.XY{X: float64(a) + offset, Y: sum / float64(n)})
			}
		}
		d, err := plotter.NewScatter(dots)
		if err != nil {
			return nil, err
		}
		d.Color, d.Shape, d.Radius = seriesColor(i), draw.RingGlyph{}, vg.Points(2.5)
		m, err := plotter.NewScatter(means)
		if err != nil {
			return nil, err
		}
		m.Color, m.Shape, m.Radius = seriesColor(i), meanBar{}, vg.Points(7)
		p.Add(d, m)
		name := fmt.Sprintf("%d parts", s.Parts)
		if s.SamplesPerPart > 0 {
			name = fmt.Sprintf("%d samples/part, %d parts", s.SamplesPerPart, s.Parts)
		}
		p.Legend.Add(name, d, m)
	}
	p.Add(hLine{Y: 1, Style: dashed(lightGray)})
	p.X.Min, p.X.Max = -0.6, float64(len(axes))-0.4
	p.Y.Min, p.Y.Max = min(lo-0.05, 0.5), 1.02
	p.Legend.Top = false
	return p, nil
}

// meanBar is a glyph drawn as a short thick horizontal bar (the mean).
type meanBar struct{}

func (meanBar) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.StrokeLine2(draw.LineStyle{Color: sty.Color, Width: vg.Points(2)}, pt.X-sty.Radius, pt.Y, pt.X+sty.Radius, pt.Y)
}
