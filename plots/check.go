package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func drawCanvas(c vg.CanvasSizer) draw.Canvas { return draw.New(c) }

// finite returns an error naming field when v is empty or holds NaN/Inf.
func finite(field string, v []float64) error {
	if len(v) == 0 {
		return fmt.Errorf("plots: %s is empty", field)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("plots: %s[%d] is %v", field, i, x)
		}
	}
	return nil
}

// rectangular checks that m is non-empty, rectangular and finite.
func rectangular(field string, m [][]float64) error {
	if len(m) == 0 {
		return fmt.Errorf("plots: %s is empty", field)
	}
	for i, row := range m {
		if len(row) != len(m[0]) {
			return fmt.Errorf("plots: %s is ragged: row %d has %d entries, row 0 has %d", field, i, len(row), len(m[0]))
		}
		if err := finite(fmt.Sprintf("%s[%d]", field, i), row); err != nil {
			return err
		}
	}
	return nil
}

func minMax(v ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range v {
		for _, x := range s {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi
}

// padRange widens [lo, hi] by frac of its width on both sides (1 when empty).
func padRange(lo, hi, frac float64) (float64, float64) {
	w := hi - lo
	if w <= 0 {
		w = math.Max(math.Abs(hi), 1)
	}
	return lo - frac*w, hi + frac*w
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(gridLines())
	p.X.Tick.Marker = compactTicks{}
	p.Y.Tick.Marker = compactTicks{}
	return p
}

func gridLines() plot.Plotter {
	g := plotterGrid()
	return g
}

func seriesColor(i int) color.Color { return plotutil.Color(i) }

var (
	gray      = color.Gray{Y: 120}
	lightGray = color.Gray{Y: 200}
)

// integerTicks labels only integer positions (layers, starts).
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	// Few integers in range (small models: a handful of layers): label each.
	if lo, hi := math.Ceil(min), math.Floor(max); hi-lo <= 12 {
		var out []plot.Tick
		for v := lo + 0; v <= hi; v++ { // + 0 turns −0 into 0
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
		}
		return out
	}
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	out := ticks[:0]
	for _, t := range ticks {
		if t.Value != math.Trunc(t.Value) {
			if t.Label == "" {
				continue
			}
			t.Label = ""
		} else if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'f', 0, 64)
		}
		out = append(out, t)
	}
	return out
}

// compactTicks are gonum's default ticks labelled with %g (25 rather than
// 25.00).
type compactTicks struct{}

func (compactTicks) Ticks(min, max float64) []plot.Tick {
	return relabelTicks(min, max, func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) })
}

// relabelTicks are gonum's default ticks with every major label written by
// label.
func relabelTicks(min, max float64, label func(float64) string) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = label(t.Value)
		}
	}
	return ticks
}

// siTicks label large counts with SI suffixes (2.5M rather than 2.5e+06).
type siTicks struct{}

func (siTicks) Ticks(min, max float64) []plot.Tick { return relabelTicks(min, max, SI) }

// SI formats x with a k/M/G/T suffix (1500000 → "1.5M").
func SI(x float64) string {
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(x) >= u.div {
			return strconv.FormatFloat(x/u.div, 'g', 4, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}
