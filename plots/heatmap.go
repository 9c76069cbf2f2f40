package plots

import (
	"fmt"
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gominitron/gominitron/results"
)

// HeatmapOptions selects what ImportanceHeatmap draws.
type HeatmapOptions struct {
	// Axis is "heads" (layer × query head, heads in model order) or "ffn"
	// (layer × neuron rank: each layer's neuron scores sorted in decreasing
	// order and averaged into Bins bins).
	Axis string
	// Bins is the number of neuron bins for Axis "ffn" (default 64, at most
	// the FFN size).
	Bins int
	// Keep, when > 0, draws a plan's cut: for "ffn" a vertical line after the
	// Keep highest-ranked neurons of every layer; for "heads" a cross on
	// every head the plan removes (the Keep lowest-ranked heads are kept per
	// layer, or per KV group when Groups > 0).
	Keep int
	// Groups is the number of KV groups (num_key_value_heads) for "heads":
	// when > 0 heads are ranked within their group and Keep counts per group.
	Groups int
}

// ImportanceHeatmap draws the scores of one width axis as a layer × unit
// heatmap. Each layer's scores are divided by that layer's maximum (pruning
// ranks units within a layer), so colors run from 0 (dark) to 1 (bright) and
// every row has a 1 (its most important unit); a colour bar on the right says
// so.
func ImportanceHeatmap(imp *results.Importance, opts HeatmapOptions) (*plot.Plot, error) {
	if imp == nil {
		return nil, fmt.Errorf("plots: ImportanceHeatmap: nil importance")
	}
	var scores [][]float64
	switch opts.Axis {
	case "heads":
		scores = imp.Heads
	case "ffn":
		scores = imp.FFN
	default:
		return nil, fmt.Errorf("plots: ImportanceHeatmap: axis %q (want heads or ffn)", opts.Axis)
	}
	if err := rectangular(opts.Axis, scores); err != nil {
		return nil, err
	}
	numLayers, width := len(scores), len(scores[0])
	if opts.Keep < 0 {
		return nil, fmt.Errorf("plots: ImportanceHeatmap: keep %d < 0", opts.Keep)
	}
	grid := &heatGrid{rows: make([][]float64, numLayers)}
	p := plot.New()
	p.Y.Label.Text = "layer"
	p.Y.Tick.Marker = integerTicks{}
	var cut []plot.Plotter
	switch opts.Axis {
	case "heads":
		if opts.Keep > width {
			return nil, fmt.Errorf("plots: ImportanceHeatmap: keep %d > %d heads", opts.Keep, width)
		}
		groupSize := width
		if opts.Groups > 0 {
			if width%opts.Groups != 0 {
				return nil, fmt.Errorf("plots: ImportanceHeatmap: %d heads not divisible into %d groups", width, opts.Groups)
			}
			groupSize = width / opts.Groups
			if opts.Keep > groupSize {
				return nil, fmt.Errorf("plots: ImportanceHeatmap: keep %d > %d heads per group", opts.Keep, groupSize)
			}
		}
		var removed plotter.XYs
		for l, row := range scores {
			grid.rows[l] = normalized(row)
			if opts.Keep == 0 {
				continue
			}
			for g := 0; g < width; g += groupSize {
				for _, h := range ranked(row[g : g+groupSize])[opts.Keep:] {
					removed = append(removed, plotter.XY{X: float64(g + h), Y: float64(l)})
				}
			}
		}
		grid.xStep = 1
		p.X.Label.Text = "query head"
		p.X.Tick.Marker = integerTicks{}
		p.Title.Text = "Attention head importance within each layer"
		if opts.Keep > 0 {
			s, err := plotter.NewScatter(removed)
			if err != nil {
				return nil, err
			}
			s.Shape, s.Color, s.Radius = draw.CrossGlyph{}, color.RGBA{R: 230, A: 255}, vg.Points(5)
			cut = append(cut, s)
			per := "layer"
			if opts.Groups > 0 {
				per = "KV group"
			}
			p.X.Label.Text = fmt.Sprintf("query head (× = removed by the plan: keep %d per %s)", opts.Keep, per)
		}
		for g := 1; opts.Groups > 0 && g < opts.Groups; g++ {
			cut = append(cut, vLine{X: float64(g*groupSize) - 0.5, Style: solid(color.White, 1.5)})
		}
	case "ffn":
		if opts.Keep > width {
			return nil, fmt.Errorf("plots: ImportanceHeatmap: keep %d > ffn %d", opts.Keep, width)
		}
		bins := opts.Bins
		if bins <= 0 {
			bins = 64
		}
		bins = min(bins, width)
		for l, row := range scores {
			sorted := normalized(row)
			sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
			binned := make([]float64, bins)
			for b := range bins {
				lo, hi := b*width/bins, (b+1)*width/bins
				var s float64
				for _, v := range sorted[lo:hi] {
					s += v
				}
				binned[b] = s / float64(hi-lo)
			}
			grid.rows[l] = binned
		}
		grid.xStep = float64(width) / float64(bins)
		p.X.Label.Text = fmt.Sprintf("neuron rank within the layer (%d bins)", bins)
		p.X.Tick.Marker = integerTicks{}
		p.Title.Text = "FFN neuron importance within each layer, sorted"
		if opts.Keep > 0 {
			l := vLine{X: float64(opts.Keep), Style: solid(color.RGBA{R: 230, A: 255}, 2)}
			cut = append(cut, l)
			p.X.Label.Text += fmt.Sprintf("; line = plan cut, keep %d of %d", opts.Keep, width)
		}
	}
	palette := heatPalette()
	p.Add(&cells{grid: grid, colors: palette})
	p.Add(cut...)
	p.Add(&colorBar{colors: palette, label: "score / layer's highest (1 = most important)"})
	p.X.Min, p.X.Max = 0, float64(width)
	if opts.Axis == "heads" {
		p.X.Min, p.X.Max = -0.5, float64(width)-0.5
	}
	p.Y.Min, p.Y.Max = -0.5, float64(numLayers)-0.5
	return p, nil
}

// heatGrid is a plotter.GridXYZ over rows[layer][column]; column c is
// centred at (c+0.5)·xStep (ffn bins) or at c (heads, xStep 1).
type heatGrid struct {
	rows  [][]float64
	xStep float64
}

func (g *heatGrid) Dims() (c, r int)   { return len(g.rows[0]), len(g.rows) }
func (g *heatGrid) Z(c, r int) float64 { return g.rows[r][c] }
func (g *heatGrid) Y(r int) float64    { return float64(r) }
func (g *heatGrid) X(c int) float64 {
	if g.xStep == 1 {
		return float64(c)
	}
	return (float64(c) + 0.5) * g.xStep
}

// normalized returns row / max(row) (a copy; zeros stay zero).
func normalized(row []float64) []float64 {
	_, hi := minMax(row)
	out := make([]float64, len(row))
	for i, v := range row {
		if hi > 0 {
			out[i] = v / hi
		}
	}
	return out
}

// ranked returns the indices of v in decreasing order of value (stable).
func ranked(v []float64) []int {
	idx := indicesInt(len(v))
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	return idx
}

func indicesInt(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// heatPalette is Kindlmann's perceptually uniform map (black → blue → green
// → yellow), stopped before white so that the top scores stay visible on a
// white page.
func heatPalette() fixedPalette {
	cm := moreland.Kindlmann()
	cm.SetMin(0)
	cm.SetMax(1)
	const n = 255
	colors := make([]color.Color, n)
	for i := range colors {
		c, err := cm.At(0.92 * float64(i) / (n - 1))
		if err != nil {
			panic(err) // in range by construction
		}
		colors[i] = c
	}
	return fixedPalette(colors)
}

type fixedPalette []color.Color

func (p fixedPalette) Colors() []color.Color { return p }

// cells draws a heatGrid (values in [0, 1]) as filled rectangles that overlap
// by a hair, so that no anti-aliasing seams show between cells (plotter.HeatMap
// leaves light seams when vectorized and blurs when rasterized).
type cells struct {
	grid   *heatGrid
	colors fixedPalette
}

const cellOverlap = vg.Length(0.4)

func (h *cells) halfWidth() float64 {
	if h.grid.xStep == 1 {
		return 0.5
	}
	return h.grid.xStep / 2
}

func (h *cells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	cols, rows := h.grid.Dims()
	hw := h.halfWidth()
	for r := range rows {
		for col := range cols {
			v := min(max(h.grid.Z(col, r), 0), 1)
			clr := h.colors[int(v*float64(len(h.colors)-1)+0.5)]
			x, y := h.grid.X(col), h.grid.Y(r)
			x0, x1 := trX(x-hw)-cellOverlap, trX(x+hw)+cellOverlap
			y0, y1 := trY(y-0.5)-cellOverlap, trY(y+0.5)+cellOverlap
			x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
			y0, y1 = max(y0, c.Min.Y), min(y1, c.Max.Y)
			c.FillPolygon(clr, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
		}
	}
}

func (h *cells) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols, rows := h.grid.Dims()
	hw := h.halfWidth()
	return h.grid.X(0) - hw, h.grid.X(cols-1) + hw, -0.5, float64(rows) - 0.5
}
