package reproduce

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute/dtypes"
	"gonum.org/v1/plot"

	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/plots"
)

// ThroughputShapes are the scaled shapes of the throughput experiment
// (recipes/bench, relative to the checkout): Llama-3.1-8B's shape and its
// width- and depth-pruned 4B children, scaled down (8B: 8 layers, hidden
// 256; width: hidden 192, FFN 576; depth: 4 layers), the first is the
// reference of the ratios.
var ThroughputShapes = []struct{ Name, Config string }{
	{"8B shape", "recipes/bench/tiny-8b-shape.json"},
	{"width-4B shape", "recipes/bench/tiny-width.json"},
	{"depth-4B shape", "recipes/bench/tiny-depth.json"},
}

// ThroughputSizes are one scale's benchmark point and repeats.
type ThroughputSizes struct {
	Batch     int          `json:"batch"`
	InputLen  int          `json:"input_len"`
	OutputLen int          `json:"output_len"`
	Repeats   int          `json:"repeats"` // interleaved rounds, every shape once per round
	DType     dtypes.DType `json:"-"`
	DTypeName string       `json:"dtype"`
}

// throughputSizes: float32 on CPU (the pure-Go backend has no fast
// bfloat16 matmul), bfloat16 on GPU.
func throughputSizes(scale string) ThroughputSizes {
	switch scale {
	case "smoke":
		return ThroughputSizes{Batch: 2, InputLen: 8, OutputLen: 4, Repeats: 5, DType: dtypes.Float32}
	case "gpu":
		return ThroughputSizes{Batch: 32, InputLen: 512, OutputLen: 256, Repeats: 10, DType: dtypes.BFloat16}
	}
	return ThroughputSizes{Batch: 8, InputLen: 128, OutputLen: 64, Repeats: 7, DType: dtypes.Float32}
}

// ThroughputResult is the raw timing of every round.
type ThroughputResult struct {
	Sizes   ThroughputSizes `json:"sizes"`
	Backend string          `json:"backend"` // the backend's name
	Shapes  []string        `json:"shapes"`
	Params  []int64         `json:"params"`
	// Rounds[r][s] is shape s's measurement in round r (shapes rotated
	// between rounds, so drifting machine load hits each shape alike).
	Rounds [][]*evaluate.BenchResult `json:"rounds"`
	// Generation throughput (Batch·OutputLen / total time) per shape and
	// round, and its ratio to the first shape's in the same round.
	TokensPerSec [][]float64 `json:"generated_tokens_per_sec"`
	Ratio        [][]float64 `json:"ratio_to_reference"`
}

// Throughput benchmarks generation (KV-cache prefill + greedy decode,
// evaluate.Bench) of the scaled 8B, width-4B and depth-4B shapes with random
// weights, in interleaved rounds, and reports mean ± std over the rounds of
// the throughput and of its ratio to the 8B shape within each round.
func (e *Env) Throughput() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpThroughput, "Throughput of the 8B, width-4B and depth-4B shapes (scaled)",
		"Minitron blog (Llama-3.1-Minitron 4B), throughput figure: the depth-pruned 4B serves about 2.7× and the width-pruned 4B about 1.8× the tokens/s of Llama-3.1-8B (TensorRT-LLM, H100): depth pruning gives the larger speed-up at equal parameters.")
	if err != nil {
		return nil, err
	}
	sz := throughputSizes(e.Scale)
	sz.DTypeName = sz.DType.String()
	res := &ThroughputResult{Sizes: sz, Backend: e.Backend.Name()}
	var runners []*llm.Runner
	defer func() {
		for _, rn := range runners {
			rn.Close()
		}
	}()
	for i, s := range ThroughputShapes {
		path := filepath.Join(e.Root, s.Config)
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reproduce: throughput shape %s: %w", s.Name, err)
		}
		cfg, err := llm.ParseConfig(raw)
		if err != nil {
			return nil, fmt.Errorf("reproduce: throughput shape %s: %w", path, err)
		}
		m, err := llm.InitWeights(cfg, sz.DType, e.Seed+uint64(i))
		if err != nil {
			return nil, err
		}
		rn, err := llm.NewRunner(e.Backend, m)
		if err != nil {
			return nil, err
		}
		rn.WithDType(sz.DType)
		runners = append(runners, rn)
		res.Shapes, res.Params = append(res.Shapes, s.Name), append(res.Params, cfg.Params().Total)
	}
	ns := len(runners)
	res.TokensPerSec = make([][]float64, ns)
	res.Ratio = make([][]float64, ns)
	for round := range sz.Repeats {
		row := make([]*evaluate.BenchResult, ns)
		for j := range ns {
			s := (round + j) % ns // rotate the order
			b, err := evaluate.Bench(runners[s], evaluate.BenchOptions{Shape: res.Shapes[s], Batch: sz.Batch, InputLen: sz.InputLen,
				OutputLen: sz.OutputLen, Repeats: 1, DType: sz.DType, Seed: e.Seed + uint64(round)})
			if err != nil {
				return nil, fmt.Errorf("reproduce: throughput of %s: %w", res.Shapes[s], err)
			}
			row[s] = b
		}
		for s, b := range row {
			tps := float64(sz.Batch*sz.OutputLen) / b.TotalSeconds
			res.TokensPerSec[s] = append(res.TokensPerSec[s], tps)
			res.Ratio[s] = append(res.Ratio[s], tps*row[0].TotalSeconds/float64(sz.Batch*sz.OutputLen))
		}
		e.logf("  round %d/%d: %.0f / %.0f / %.0f generated tokens/s", round+1, sz.Repeats,
			res.TokensPerSec[0][round], res.TokensPerSec[1][round], res.TokensPerSec[2][round])
		res.Rounds = append(res.Rounds, row)
	}
	return judged(r, res, judgeAs(judgeThroughput), start)
}

// judgeThroughput: reproduced when the width-4B shape generates faster than
// the 8B shape and the depth-4B shape faster than the width-4B one, each by
// the verdict rule (Higher) on the throughput ratio to the 8B shape, paired
// by interleaved round (the rounds are the repeats).
func judgeThroughput(r *Report, res *ThroughputResult) error {
	ns := len(res.Shapes)
	if ns != len(ThroughputShapes) || len(res.Params) != ns || len(res.TokensPerSec) != ns || len(res.Ratio) != ns {
		return fmt.Errorf("reproduce: throughput result has %d shapes (%d params, %d throughputs, %d ratios), want %d",
			ns, len(res.Params), len(res.TokensPerSec), len(res.Ratio), len(ThroughputShapes))
	}
	for s := range ns {
		if len(res.TokensPerSec[s]) != len(res.Rounds) || len(res.Ratio[s]) != len(res.Rounds) {
			return fmt.Errorf("reproduce: throughput of %s has %d values and %d ratios for %d rounds", res.Shapes[s], len(res.TokensPerSec[s]), len(res.Ratio[s]), len(res.Rounds))
		}
	}
	r.Headers = []string{"shape", "params", "prefill tokens/s", "generated tokens/s", "× the 8B shape (same round)"}
	r.Rows = nil
	for s := range ns {
		var prefill []float64
		for i, row := range res.Rounds {
			if len(row) != ns || row[s] == nil {
				return fmt.Errorf("reproduce: throughput round %d lacks %s", i, res.Shapes[s])
			}
			prefill = append(prefill, row[s].PrefillTokensPerSec)
		}
		r.Rows = append(r.Rows, []string{res.Shapes[s], plotsSI(res.Params[s]), pm1(prefill), pm1(res.TokensPerSec[s]), pmRatio(res.Ratio[s])})
	}
	reference := make([]float64, len(res.Rounds)) // the 8B shape against itself: 1 in every round
	for i := range reference {
		reference[i] = 1
	}
	width := Higher("width-4B", res.Ratio[1], "8B", reference)
	depth := Higher("depth-4B", res.Ratio[2], "width-4B", res.Ratio[1])
	r.Reproduced = width.Holds && depth.Holds
	dm, ds := meanStd(res.Ratio[2])
	wm, wsd := meanStd(res.Ratio[1])
	r.Verdict = fmt.Sprintf("Generation throughput relative to the 8B shape in the same round, over %d interleaved rounds: depth-4B %.2f× ± %.2f, width-4B %.2f× ± %.2f (blog: 2.7× and 1.8×). Width faster than 8B: %s. Depth faster than width: %s.",
		len(res.Rounds), dm, ds, wm, wsd, width, depth)
	r.Notes = []string{fmt.Sprintf("random weights in %s, batch %d, %d prompt + %d generated tokens; each measurement is one timed generation after a warm-up; the rounds are the repeats of the rule (rotated order); the machine may be shared, so the spread is part of the result",
		res.Sizes.DTypeName, res.Sizes.Batch, res.Sizes.InputLen, res.Sizes.OutputLen)}
	if res.Backend != "" {
		r.Notes[0] += "; backend " + res.Backend
	}
	r.addFigure("rounds", func() (*plot.Plot, error) {
		var series []plots.Series
		for s := range ns {
			sr := plots.Series{Name: res.Shapes[s]}
			for i, v := range res.TokensPerSec[s] {
				sr.X, sr.Y = append(sr.X, float64(i+1)), append(sr.Y, v)
			}
			series = append(series, sr)
		}
		return plots.Lines(series, plots.LinesOptions{Title: "Generation throughput per interleaved round", XLabel: "round",
			YLabel: "generated tokens/s", IntegerX: true})
	})
	return nil
}

// pm1 formats mean ± std with no decimals (throughputs).
func pm1(xs []float64) string {
	m, s := meanStd(xs)
	return fmt.Sprintf("%.0f ± %.0f", m, s)
}

// pmRatio formats mean ± std of a ratio.
func pmRatio(xs []float64) string {
	m, s := meanStd(xs)
	return fmt.Sprintf("%.2f ± %.2f", m, s)
}
