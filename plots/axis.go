package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func plotterGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 230}
	g.Horizontal.Color = color.Gray{Y: 230}
	g.Vertical.Dashes = nil
	g.Horizontal.Dashes = nil
	return g
}

// rightAxis is a plotter that draws a secondary Y axis on the right edge of
// the data area: the secondary range [lo, hi] maps linearly onto the plot's
// Y range. Its GlyphBoxes reserve room for its ticks and label.
type rightAxis struct {
	label  string
	lo, hi float64
	color  color.Color
}

// toPrimary maps a secondary value to the plot's Y coordinates.
func (a *rightAxis) toPrimary(p *plot.Plot, v float64) float64 {
	return p.Y.Min + (v-a.lo)/(a.hi-a.lo)*(p.Y.Max-p.Y.Min)
}

const rightAxisPad = vg.Length(3)

func (a *rightAxis) ticks() []plot.Tick { return plot.DefaultTicks{}.Ticks(a.lo, a.hi) }

func (a *rightAxis) labelStyle(p *plot.Plot) draw.TextStyle {
	sty := p.Y.Label.TextStyle
	sty.Color = a.color
	sty.Rotation = math.Pi / 2
	sty.XAlign = draw.XCenter
	sty.YAlign = draw.YTop
	return sty
}

func (a *rightAxis) tickStyle(p *plot.Plot) draw.TextStyle {
	sty := p.Y.Tick.Label
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	sty.Color = a.color
	return sty
}

func (a *rightAxis) width(p *plot.Plot) vg.Length {
	w := p.Y.Tick.Length + rightAxisPad
	var labelW vg.Length
	sty := a.tickStyle(p)
	for _, t := range a.ticks() {
		if t.Label != "" {
			labelW = max(labelW, sty.Width(t.Label))
		}
	}
	w += labelW + rightAxisPad
	if a.label != "" {
		w += a.labelStyle(p).Height(a.label)
	}
	return w
}

func (a *rightAxis) Plot(c draw.Canvas, p *plot.Plot) {
	x := c.Max.X
	line := p.Y.LineStyle
	line.Color = a.color
	c.StrokeLine2(line, x, c.Min.Y, x, c.Max.Y)
	tickLine := p.Y.Tick.LineStyle
	tickLine.Color = a.color
	tsty := a.tickStyle(p)
	var labelW vg.Length
	for _, t := range a.ticks() {
		frac := (t.Value - a.lo) / (a.hi - a.lo)
		if frac < -1e-9 || frac > 1+1e-9 {
			continue
		}
		y := c.Y(frac)
		length := p.Y.Tick.Length
		if t.IsMinor() {
			length /= 2
		}
		c.StrokeLine2(tickLine, x, y, x+length, y)
		if t.Label != "" {
			c.FillText(tsty, vg.Point{X: x + p.Y.Tick.Length + rightAxisPad, Y: y}, t.Label)
			labelW = max(labelW, tsty.Width(t.Label))
		}
	}
	if a.label != "" {
		lx := x + p.Y.Tick.Length + rightAxisPad + labelW + rightAxisPad
		c.FillText(a.labelStyle(p), vg.Point{X: lx, Y: (c.Min.Y + c.Max.Y) / 2}, a.label)
	}
}

func (a *rightAxis) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	return []plot.GlyphBox{{
		X: 1, Y: 0.5,
		Rectangle: vg.Rectangle{Min: vg.Point{X: 0, Y: -1}, Max: vg.Point{X: a.width(p), Y: 1}},
	}}
}

// vLine is a vertical line at data coordinate X across the data area.
type vLine struct {
	X     float64
	Style draw.LineStyle
}

func (l vLine) Plot(c draw.Canvas, p *plot.Plot) {
	x := c.X(p.X.Norm(l.X))
	c.StrokeLine2(l.Style, x, c.Min.Y, x, c.Max.Y)
}

// hLine is a horizontal line at data coordinate Y across the data area.
type hLine struct {
	Y     float64
	Style draw.LineStyle
}

func (l hLine) Plot(c draw.Canvas, p *plot.Plot) {
	y := c.Y(p.Y.Norm(l.Y))
	c.StrokeLine2(l.Style, c.Min.X, y, c.Max.X, y)
}

func dashed(clr color.Color) draw.LineStyle {
	return draw.LineStyle{Color: clr, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
}

func solid(clr color.Color, width float64) draw.LineStyle {
	return draw.LineStyle{Color: clr, Width: vg.Points(width)}
}

// xys builds plotter.XYs from x and y slices of equal length.
func xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, len(y))
	for i := range y {
		pts[i].X, pts[i].Y = x[i], y[i]
	}
	return pts
}

func indices(n int, offset float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i) + offset
	}
	return x
}
