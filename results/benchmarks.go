package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// BenchmarkTable is the layout of the Minitron blog's Table 1: one row per
// (benchmark, shots, metric), one column per model.
type BenchmarkTable struct {
	Models []string       `json:"models"`
	Rows   []BenchmarkRow `json:"rows"`
}

// BenchmarkRow is one benchmark scored on every model of the table.
type BenchmarkRow struct {
	Benchmark string    `json:"benchmark"` // e.g. "gsm8k"
	Task      string    `json:"task,omitempty"`
	Format    string    `json:"format"`
	Shots     int       `json:"shots"`
	Metric    string    `json:"metric"` // e.g. "acc_norm", "exact_match,strict-match", "rougeLsum", "pass@1"
	N         int       `json:"n"`      // examples scored
	Values    []float64 `json:"values"` // [model], a fraction in [0, 1]
	Stderr    []float64 `json:"stderr"` // [model], standard error of the mean
}

// Markdown writes the table as GitHub Markdown: benchmark, shots, metric,
// then one column per model with the value to 4 decimals.
func (t *BenchmarkTable) Markdown() string {
	var b strings.Builder
	b.WriteString("| benchmark | shots | metric |")
	for _, m := range t.Models {
		b.WriteString(" " + escapeCell(m) + " |")
	}
	b.WriteString("\n| --- | ---: | --- |")
	for range t.Models {
		b.WriteString(" ---: |")
	}
	b.WriteByte('\n')
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "| %s | %d | %s |", escapeCell(r.Benchmark), r.Shots, escapeCell(r.Metric))
		for _, v := range r.Values {
			if math.IsNaN(v) {
				b.WriteString(" – |")
			} else {
				b.WriteString(" " + strconv.FormatFloat(v, 'f', 4, 64) + " |")
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Validate checks that every row has one value and one standard error per model.
func (t *BenchmarkTable) Validate() error {
	if len(t.Models) == 0 {
		return fmt.Errorf("benchmark table has no models")
	}
	for i, r := range t.Rows {
		if len(r.Values) != len(t.Models) || len(r.Stderr) != len(t.Models) {
			return fmt.Errorf("benchmark table row %d (%s): %d values and %d stderr for %d models", i, r.Benchmark, len(r.Values), len(r.Stderr), len(t.Models))
		}
	}
	return nil
}
