package plots

import (
	"fmt"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/gominitron/gominitron/results"
)

// BenchmarkTable draws a benchmark table (the Minitron blog's Table 1) as
// grouped bars: one group per row (benchmark, shots, metric), one bar per
// model, the value in percent (standard errors are in the table itself).
func BenchmarkTable(t *results.BenchmarkTable) (*plot.Plot, error) {
	if t == nil || len(t.Rows) == 0 {
		return nil, fmt.Errorf("plots: BenchmarkTable: no rows")
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	names := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		if err := finite(fmt.Sprintf("rows[%d].values", i), r.Values); err != nil {
			return nil, err
		}
		if err := finite(fmt.Sprintf("rows[%d].stderr", i), r.Stderr); err != nil {
			return nil, err
		}
		names[i] = fmt.Sprintf("%s\n%d-shot\n%s", r.Benchmark, r.Shots, shortMetric(r.Metric))
	}
	p := newPlot("Benchmarks", "", "score (%)")
	p.Add(gridLines())
	models := len(t.Models)
	// Bars share ~75% of each group's slot of the default plot width.
	width := vg.Length(min(28, 0.75*float64(DefaultWidth)/float64(len(t.Rows)*(models+1))))
	hi := 0.0
	for m, name := range t.Models {
		vals := make(plotter.Values, len(t.Rows))
		for i, r := range t.Rows {
			vals[i] = 100 * r.Values[m]
			hi = max(hi, vals[i])
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.Color = seriesColor(m)
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(m)-float64(models-1)/2)
		p.Add(bars)
		p.Legend.Add(name, bars)
	}
	p.NominalX(names...)
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, max(1, hi)*1.1+8*float64(models) // headroom for the legend
	return p, nil
}

// shortMetric drops the harness's filter suffix ("exact_match,strict-match"
// → "strict-match") to keep the axis labels short.
func shortMetric(m string) string {
	if i := strings.LastIndexByte(m, ','); i >= 0 {
		return m[i+1:]
	}
	return m
}
