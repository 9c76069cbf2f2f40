package plots

import (
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// spreadLabels writes a label to the right of each point and, where labels
// would overlap at the figure's actual size, moves them up or down by whole
// lines (nearest free slot first) with a thin leader line back to the point.
type spreadLabels struct {
	pts    plotter.XYs
	labels []string
	style  draw.TextStyle
	offset vg.Length // gap between the point and its label
}

func newSpreadLabels(pts plotter.XYs, labels []string) *spreadLabels {
	sty := plot.New().X.Tick.Label // the theme's default small font
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	return &spreadLabels{pts: pts, labels: labels, style: sty, offset: vg.Points(6)}
}

type labelBox struct{ x0, x1, y0, y1 vg.Length }

func (a labelBox) overlaps(b labelBox) bool {
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

// place returns the label centres (canvas coordinates) for points already
// transformed to the canvas, within [yMin, yMax].
func (s *spreadLabels) place(xs, ys []vg.Length, yMin, yMax vg.Length) []vg.Point {
	h := s.style.Height("Xg") * 1.1
	order := indicesInt(len(xs))
	sort.SliceStable(order, func(a, b int) bool { return ys[order[a]] > ys[order[b]] }) // top first
	out := make([]vg.Point, len(xs))
	r := vg.Points(3.5) // the markers: labels avoid them too
	placed := make([]labelBox, 0, 2*len(xs))
	for i := range xs {
		placed = append(placed, labelBox{xs[i] - r, xs[i] + r, ys[i] - r, ys[i] + r})
	}
	for _, i := range order {
		x0 := xs[i] + s.offset
		w := s.style.Width(s.labels[i])
		best := ys[i]
		for try := 0; try < 4*len(xs)+1; try++ {
			// 0, +h, −h, +2h, −2h, … around the point
			d := vg.Length((try+1)/2) * h
			if try%2 == 0 {
				d = -d
			}
			y := ys[i] + d
			if y-h/2 < yMin || y+h/2 > yMax {
				continue
			}
			b := labelBox{x0, x0 + w, y - h/2, y + h/2}
			free := true
			for _, p := range placed {
				if b.overlaps(p) {
					free = false
					break
				}
			}
			if free {
				best = y
				break
			}
		}
		placed = append(placed, labelBox{x0, x0 + w, best - h/2, best + h/2})
		out[i] = vg.Point{X: x0, Y: best}
	}
	return out
}

func (s *spreadLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	xs, ys := make([]vg.Length, len(s.pts)), make([]vg.Length, len(s.pts))
	for i, pt := range s.pts {
		xs[i], ys[i] = trX(pt.X), trY(pt.Y)
	}
	leader := draw.LineStyle{Color: color.Gray{Y: 150}, Width: vg.Points(0.5)}
	for i, at := range s.place(xs, ys, c.Min.Y, c.Max.Y) {
		if at.Y != ys[i] {
			c.StrokeLine2(leader, xs[i]+vg.Points(2), ys[i], at.X-vg.Points(1), at.Y)
		}
		c.FillText(s.style, at, s.labels[i])
	}
}

// GlyphBoxes reserve room for the labels at their points, so that the data
// area leaves space for them on the right.
func (s *spreadLabels) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	h := s.style.Height("Xg")
	boxes := make([]plot.GlyphBox, len(s.pts))
	for i, pt := range s.pts {
		boxes[i] = plot.GlyphBox{X: p.X.Norm(pt.X), Y: p.Y.Norm(pt.Y),
			Rectangle: vg.Rectangle{Min: vg.Point{X: s.offset, Y: -h / 2}, Max: vg.Point{X: s.offset + s.style.Width(s.labels[i]), Y: h / 2}}}
	}
	return boxes
}
