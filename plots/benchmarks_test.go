package plots

import (
	"math"
	"testing"

	"github.com/gominitron/gominitron/results"
)

// demoBenchmarkTable is the blog's Table 1 shape with made-up values for
// three models.
func demoBenchmarkTable() *results.BenchmarkTable {
	rows := []results.BenchmarkRow{
		{Benchmark: "winogrande", Shots: 5, Metric: "acc"},
		{Benchmark: "arc_challenge", Shots: 25, Metric: "acc_norm"},
		{Benchmark: "mmlu", Shots: 5, Metric: "acc"},
		{Benchmark: "hellaswag", Shots: 10, Metric: "acc_norm"},
		{Benchmark: "gsm8k", Shots: 5, Metric: "exact_match,strict-match"},
		{Benchmark: "truthfulqa", Shots: 0, Metric: "mc2"},
		{Benchmark: "xlsum en", Shots: 3, Metric: "rougeLsum"},
		{Benchmark: "mbpp", Shots: 0, Metric: "pass@1"},
	}
	for i := range rows {
		for m := range 3 {
			rows[i].Values = append(rows[i].Values, 0.2+0.6*math.Abs(math.Sin(float64(3*i+m+1)))/(1+0.3*float64(m)))
			rows[i].Stderr = append(rows[i].Stderr, 0.01)
		}
	}
	return &results.BenchmarkTable{Models: []string{"teacher", "width-pruned", "depth-pruned"}, Rows: rows}
}

// TestBenchmarkTableGolden compares the plot with testdata/benchmark_table.png
// (same tolerances as TestGolden; -regen rewrites it).
func TestBenchmarkTableGolden(t *testing.T) {
	p, err := BenchmarkTable(demoBenchmarkTable())
	if err != nil {
		t.Fatal(err)
	}
	got, err := PNG(p, DefaultWidth, DefaultHeight)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "benchmark_table", got)
}

func TestBenchmarkTableInvalid(t *testing.T) {
	nan := demoBenchmarkTable()
	nan.Rows[2].Values[1] = math.NaN()
	short := demoBenchmarkTable()
	short.Rows[0].Values = short.Rows[0].Values[:2]
	for name, tab := range map[string]*results.BenchmarkTable{"nil": nil, "empty": {Models: []string{"a"}}, "nan": nan, "short row": short} {
		if _, err := BenchmarkTable(tab); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
