package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// colorBar draws the heatmaps' colour scale (values 0 … 1) as a strip right
// of the data area, with ticks and a label saying what the colour means. Its
// GlyphBoxes reserve the room.
type colorBar struct {
	colors fixedPalette
	label  string
}

const (
	colorBarGap   = vg.Length(8)
	colorBarWidth = vg.Length(10)
)

var colorBarTicks = []float64{0, 0.25, 0.5, 0.75, 1}

func (b *colorBar) tickStyle(p *plot.Plot) draw.TextStyle {
	sty := p.Y.Tick.Label
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	return sty
}

func (b *colorBar) labelStyle(p *plot.Plot) draw.TextStyle {
	sty := p.Y.Label.TextStyle
	sty.Rotation = math.Pi / 2
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	return sty
}

func (b *colorBar) width(p *plot.Plot) vg.Length {
	var labelW vg.Length
	for _, t := range colorBarTicks {
		labelW = max(labelW, b.tickStyle(p).Width(strconv.FormatFloat(t, 'g', 3, 64)))
	}
	return colorBarGap + colorBarWidth + p.Y.Tick.Length/2 + rightAxisPad + labelW + rightAxisPad + b.labelStyle(p).Height(b.label)
}

func (b *colorBar) Plot(c draw.Canvas, p *plot.Plot) {
	x0 := c.Max.X + colorBarGap
	x1 := x0 + colorBarWidth
	n := len(b.colors)
	for i, clr := range b.colors {
		y0 := c.Min.Y + (c.Max.Y-c.Min.Y)*vg.Length(i)/vg.Length(n)
		y1 := c.Min.Y + (c.Max.Y-c.Min.Y)*vg.Length(i+1)/vg.Length(n) + cellOverlap
		c.FillPolygon(clr, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: min(y1, c.Max.Y)}, {X: x0, Y: min(y1, c.Max.Y)}})
	}
	var labelW vg.Length
	tsty := b.tickStyle(p)
	for _, t := range colorBarTicks {
		y := c.Min.Y + (c.Max.Y-c.Min.Y)*vg.Length(t)
		c.StrokeLine2(p.Y.Tick.LineStyle, x1, y, x1+p.Y.Tick.Length/2, y)
		s := strconv.FormatFloat(t, 'g', 3, 64)
		c.FillText(tsty, vg.Point{X: x1 + p.Y.Tick.Length/2 + rightAxisPad, Y: y}, s)
		labelW = max(labelW, tsty.Width(s))
	}
	c.FillText(b.labelStyle(p), vg.Point{X: x1 + p.Y.Tick.Length/2 + rightAxisPad + labelW + rightAxisPad, Y: (c.Min.Y + c.Max.Y) / 2}, b.label)
}

func (b *colorBar) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	return []plot.GlyphBox{{X: 1, Y: 0.5, Rectangle: vg.Rectangle{Min: vg.Point{X: 0, Y: -1}, Max: vg.Point{X: b.width(p), Y: 1}}}}
}
