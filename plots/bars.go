package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gominitron/gominitron/results"
)

var benchMetrics = map[string]string{
	"requests_per_sec":       "requests/s",
	"prefill_tokens_per_sec": "prefill tokens/s",
	"decode_tokens_per_sec":  "decode tokens/s",
}

func benchValue(b results.Bench, metric string) float64 {
	switch metric {
	case "prefill_tokens_per_sec":
		return b.PrefillTokensPerSec
	case "decode_tokens_per_sec":
		return b.DecodeTokensPerSec
	}
	return b.RequestsPerSec
}

// Throughput draws one bar per benchmark row (shape and batch size) of the
// chosen metric ("requests_per_sec" by default, "prefill_tokens_per_sec",
// "decode_tokens_per_sec"), labelled with its ratio to the first row (the
// paper's "2.7× the throughput of the 8B").
func Throughput(rows []results.Bench, metric string) (*plot.Plot, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("plots: Throughput: no rows")
	}
	if metric == "" {
		metric = "requests_per_sec"
	}
	label, ok := benchMetrics[metric]
	if !ok {
		return nil, fmt.Errorf("plots: Throughput: unknown metric %q", metric)
	}
	values := make(plotter.Values, len(rows))
	names := make([]string, len(rows))
	for i, r := range rows {
		values[i] = benchValue(r, metric)
		if err := finite(fmt.Sprintf("rows[%d].%s", i, metric), values[i:i+1]); err != nil {
			return nil, err
		}
		if values[i] < 0 {
			return nil, fmt.Errorf("plots: Throughput: rows[%d].%s is negative", i, metric)
		}
		if r.Shape == "" {
			return nil, fmt.Errorf("plots: Throughput: rows[%d] has no shape name", i)
		}
		names[i] = fmt.Sprintf("%s\nbatch %d", r.Shape, r.Batch)
	}
	if values[0] == 0 {
		return nil, fmt.Errorf("plots: Throughput: the first row (the reference) has %s 0", metric)
	}
	first := rows[0]
	p := newPlot(fmt.Sprintf("Throughput (input %d, output %d tokens)", first.InputLen, first.OutputLen), "", label)
	bars, err := plotter.NewBarChart(values, vg.Points(40))
	if err != nil {
		return nil, err
	}
	bars.Color = seriesColor(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalX(names...)
	xy := make(plotter.XYs, len(values))
	labels := make([]string, len(values))
	for i, v := range values {
		xy[i] = plotter.XY{X: float64(i), Y: v}
		labels[i] = fmt.Sprintf("%.3g (%.2f×)", v, v/values[0])
	}
	ls, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range ls.TextStyle {
		ls.TextStyle[i].XAlign = draw.XCenter
		ls.TextStyle[i].YAlign = draw.YBottom
	}
	p.Add(ls)
	_, hi := minMax(values)
	p.Y.Min, p.Y.Max = 0, hi*1.15
	p.Y.Tick.Marker = compactTicks{}
	return p, nil
}

// ParamsVsLoss draws the candidate shapes of an architecture search:
// parameters (millions) against each candidate's last validation loss, each
// point labelled with its name; the lowest loss is ringed.
func ParamsVsLoss(cands []results.Candidate) (*plot.Plot, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("plots: ParamsVsLoss: no candidates")
	}
	pts := make(plotter.XYs, len(cands))
	labels := make([]string, len(cands))
	best := 0
	for i, c := range cands {
		loss, ok := c.FinalLoss()
		if !ok {
			return nil, fmt.Errorf("plots: ParamsVsLoss: candidate %q has no losses", c.Name)
		}
		if err := finite(fmt.Sprintf("candidate %q loss", c.Name), []float64{loss, float64(c.Params)}); err != nil {
			return nil, err
		}
		if c.Params <= 0 {
			return nil, fmt.Errorf("plots: ParamsVsLoss: candidate %q has %d params", c.Name, c.Params)
		}
		pts[i] = plotter.XY{X: float64(c.Params) / 1e6, Y: loss}
		labels[i] = c.Name
		if loss < pts[best].Y {
			best = i
		}
	}
	step := cands[0].Losses[len(cands[0].Losses)-1].Step
	p := newPlot(fmt.Sprintf("Candidate shapes (validation loss at step %d)", step), "parameters (millions)", "validation loss")
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	s.Color, s.Shape, s.Radius = seriesColor(0), draw.CircleGlyph{}, vg.Points(3)
	ring, _ := plotter.NewScatter(pts[best : best+1])
	ring.Color, ring.Shape, ring.Radius = seriesColor(2), draw.RingGlyph{}, vg.Points(7)
	ls := newSpreadLabels(pts, labels)
	p.Add(s, ring, ls)
	p.Legend.Add(fmt.Sprintf("best: %s", cands[best].Name), ring)
	p.Legend.Top = true
	xlo, xhi := minMax([]float64{pts[0].X}, xsOf(pts))
	ylo, yhi := minMax(ysOf(pts))
	p.X.Min, p.X.Max = padRange(xlo, xhi, 0.1)
	p.Y.Min, p.Y.Max = padRange(ylo, yhi, 0.1)
	return p, nil
}

func xsOf(pts plotter.XYs) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = p.X
	}
	return out
}

func ysOf(pts plotter.XYs) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = p.Y
	}
	return out
}
