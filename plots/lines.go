package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
)

// Series is one named line of a Lines figure: Y[i] at X[i].
type Series struct {
	Name string
	X, Y []float64
}

// LinesOptions are a Lines figure's title and axis labels. IntegerX labels
// every integer X (counts such as "layers dropped").
type LinesOptions struct {
	Title, XLabel, YLabel string
	IntegerX              bool
}

// Lines draws one line with points per series, in the order given, with a
// legend: e.g. the validation loss after dropping k layers under three
// layer-choice rules (notebook 02), or the loss against the parameter count
// when pruning one axis at a time (notebook 03).
func Lines(series []Series, opts LinesOptions) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("plots: Lines: no series")
	}
	p := newPlot(opts.Title, opts.XLabel, opts.YLabel)
	if opts.IntegerX {
		p.X.Tick.Marker = integerTicks{}
	}
	var xs, ys [][]float64
	for i, s := range series {
		if len(s.X) == 0 || len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: Lines: series %q has %d x and %d y values (want the same number, at least 1)", s.Name, len(s.X), len(s.Y))
		}
		if err := finite(fmt.Sprintf("series %q x", s.Name), s.X); err != nil {
			return nil, err
		}
		if err := finite(fmt.Sprintf("series %q y", s.Name), s.Y); err != nil {
			return nil, err
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, pt, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, pt.Color = seriesColor(i), seriesColor(i)
		l.Dashes = plotutil.Dashes(i)
		pt.Shape = plotutil.Shape(i)
		p.Add(l, pt)
		p.Legend.Add(s.Name, l, pt)
		xs, ys = append(xs, s.X), append(ys, s.Y)
	}
	p.Legend.Top = true
	xlo, xhi := minMax(xs...)
	ylo, yhi := minMax(ys...)
	p.X.Min, p.X.Max = padRange(xlo, xhi, 0.04)
	p.Y.Min, p.Y.Max = withLegendRoom(ylo, yhi, len(series))
	return p, nil
}

// withLegendRoom pads the data range [lo, hi] and adds room above it for a
// top legend of n entries, so that the legend never covers a line.
func withLegendRoom(lo, hi float64, n int) (float64, float64) {
	lo, hi = padRange(lo, hi, 0.05)
	return lo, hi + (hi-lo)*0.09*float64(n)
}
