package results

import (
	"math"
	"strings"
	"testing"
)

func TestBenchmarkTableMarkdown(t *testing.T) {
	tab := &BenchmarkTable{Models: []string{"teacher", "pruned|kd"}, Rows: []BenchmarkRow{
		{Benchmark: "gsm8k", Shots: 5, Metric: "exact_match,strict-match", Values: []float64{0.5, 0.125}, Stderr: []float64{0, 0}},
		{Benchmark: "mbpp", Shots: 0, Metric: "pass@1", Values: []float64{1.0 / 3, math.NaN()}, Stderr: []float64{0, 0}},
	}}
	want := "| benchmark | shots | metric | teacher | pruned\\|kd |\n" +
		"| --- | ---: | --- | ---: | ---: |\n" +
		"| gsm8k | 5 | exact_match,strict-match | 0.5000 | 0.1250 |\n" +
		"| mbpp | 0 | pass@1 | 0.3333 | – |\n"
	if got := tab.Markdown(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if err := tab.Validate(); err != nil {
		t.Error(err)
	}
	tab.Rows[0].Values = tab.Rows[0].Values[:1]
	if err := tab.Validate(); err == nil || !strings.Contains(err.Error(), "gsm8k") {
		t.Errorf("validate: %v", err)
	}
}
