package plots

import (
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// TestSpreadLabelsNeverOverlap places labels of points that sit on top of
// each other (the presets of notebook 05 at figure size) and checks, box by
// box, that no label overlaps another label or any marker, and that labels
// stay inside the canvas.
func TestSpreadLabelsNeverOverlap(t *testing.T) {
	cases := []struct {
		name   string
		xs, ys []vg.Length
	}{
		{"one point", []vg.Length{100}, []vg.Length{100}},
		{"same point ×4", []vg.Length{100, 100, 100, 100}, []vg.Length{150, 150, 150, 150}},
		{"close cluster", []vg.Length{100, 104, 110, 98, 120}, []vg.Length{150, 152, 147, 155, 150}},
		{"near the top edge", []vg.Length{100, 101, 102}, []vg.Length{295, 296, 297}},
	}
	const yMin, yMax = vg.Length(0), vg.Length(300)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			labels := make([]string, len(c.xs))
			pts := make(plotter.XYs, len(c.xs))
			for i := range labels {
				labels[i] = "depth: keep 3 of 4 layers"[:10+i]
			}
			s := newSpreadLabels(pts, labels)
			at := s.place(c.xs, c.ys, yMin, yMax)
			h := s.style.Height("Xg") * 1.1
			boxes := make([]labelBox, len(at))
			for i, p := range at {
				boxes[i] = labelBox{p.X, p.X + s.style.Width(labels[i]), p.Y - h/2, p.Y + h/2}
				if boxes[i].y0 < yMin || boxes[i].y1 > yMax {
					t.Errorf("label %d at y %v leaves the canvas [%v, %v]", i, p.Y, yMin, yMax)
				}
			}
			const marker = vg.Length(3) // a marker's radius
			for i := range boxes {
				for j := range boxes {
					if i < j && boxes[i].overlaps(boxes[j]) {
						t.Errorf("labels %d and %d overlap: %+v %+v", i, j, boxes[i], boxes[j])
					}
					m := labelBox{c.xs[j] - marker, c.xs[j] + marker, c.ys[j] - marker, c.ys[j] + marker}
					if boxes[i].overlaps(m) {
						t.Errorf("label %d covers the marker of point %d", i, j)
					}
				}
			}
		})
	}
}
