package reproduce

import (
	"fmt"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/plots"
)

// LayerCurvesResult is the layer-curves experiment's raw numbers: per
// calibration seed, the LM loss with every contiguous block removed.
type LayerCurvesResult struct {
	BlockSizes []int                     `json:"block_sizes"` // importance.ScaledBlockSizes(numLayers)
	Seeds      []uint64                  `json:"seeds"`       // calibration draws
	PerSeed    []*importance.LayerCurves `json:"per_seed"`
	Mean       []importance.LayerCurve   `json:"mean"` // over seeds, per block size and start
	Std        []importance.LayerCurve   `json:"std"`
	FullLoss   []float64                 `json:"full_loss"` // per seed
}

// LayerCurves measures the teacher's LM loss on calibration windows with
// every contiguous block of 1, 2, L/4, L/2 and L−1 layers removed
// (importance.ScaledBlockSizes: the blog's 1, 2, 8, 16 of Llama-3.1-8B's 32
// layers scaled to the teacher's depth) at every start position, over
// Sizes.Seeds calibration draws (the blog's Figure 5).
func (e *Env) LayerCurves() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpLayerCurves, "LM loss with contiguous layers removed (blog Figure 5)",
		"Minitron blog (Llama-3.1-Minitron 4B), Figure 5: LM validation loss after removing 1, 2, 8 or 16 contiguous layers at every start position of Llama-3.1-8B; the first and the last layers are the most important (removing them costs the most), the layers just before the end the least.")
	if err != nil {
		return nil, err
	}
	n := e.Teacher.Config.NumLayers
	res := &LayerCurvesResult{BlockSizes: importance.ScaledBlockSizes(n), Seeds: e.seeds()}
	if len(res.BlockSizes) == 0 {
		return nil, fmt.Errorf("reproduce: layer curves need a teacher with at least 2 layers, %s has %d", e.TeacherDir, n)
	}
	for _, seed := range res.Seeds {
		ids, err := e.tokens.Calibration(data.Train, e.Sizes.CalibSamples, e.Sizes.CalibSeqLen, seed)
		if err != nil {
			return nil, fmt.Errorf("reproduce: calibration from %s: %w", e.TokenFile, err)
		}
		c, err := importance.ComputeLayerCurves(e.Backend, e.Teacher, &importance.Calibration{IDs: ids}, res.BlockSizes, 0,
			func(k, done, total int) { e.logf("  seed %d: block size %d (%d/%d)", seed, k, done, total) })
		if err != nil {
			return nil, err
		}
		res.PerSeed = append(res.PerSeed, c)
		res.FullLoss = append(res.FullLoss, c.FullLoss)
	}
	for i, k := range res.BlockSizes {
		mean := importance.LayerCurve{BlockSize: k}
		std := importance.LayerCurve{BlockSize: k}
		for s := range res.PerSeed[0].Curves[i].Loss {
			m, sd := meanStd(seedValues(res.PerSeed, i, s))
			mean.Loss, std.Loss = append(mean.Loss, m), append(std.Loss, sd)
		}
		res.Mean, res.Std = append(res.Mean, mean), append(res.Std, std)
	}
	r.Headers = []string{"layers removed", "start 0 (first layer)", "best start", "worst start", "end block (last layer)"}
	for i, k := range res.BlockSizes {
		last := len(res.Mean[i].Loss) - 1
		best, worst := argmin(res.Mean[i].Loss), argMax(res.Mean[i].Loss)
		cell := func(s int) string {
			return fmt.Sprintf("%s (%s)", pm(seedValues(res.PerSeed, i, s)), layerRange(s, k))
		}
		r.Rows = append(r.Rows, []string{fmt.Sprint(k), cell(0), cell(best), cell(worst), cell(last)})
	}
	// The claim at block size 1: the first and the last layer are the two
	// most important, each beyond the seed spread of every middle layer.
	one := res.Mean[0]
	edgesFirst := true
	var edges, middle []string
	for s := range one.Loss {
		if s == 0 || s == n-1 {
			edges = append(edges, fmt.Sprintf("layer %d %s", s, pm(seedValues(res.PerSeed, 0, s))))
			continue
		}
		middle = append(middle, fmt.Sprintf("layer %d %s", s, pm(seedValues(res.PerSeed, 0, s))))
		for _, edge := range []int{0, n - 1} {
			if !LowerBeyondSpread(seedValues(res.PerSeed, 0, s), seedValues(res.PerSeed, 0, edge)) {
				edgesFirst = false
			}
		}
	}
	full, _ := meanStd(res.FullLoss)
	r.Reproduced = edgesFirst && n > 2
	r.Verdict = fmt.Sprintf("Removing one layer (full model %.4f): %s vs %s over %d calibration draws — the first and last layers are %sthe most important beyond the seed spread.",
		full, strings.Join(edges, ", "), strings.Join(middle, ", "), len(res.Seeds), map[bool]string{true: "", false: "not "}[edgesFirst])
	r.Notes = append(r.Notes, fmt.Sprintf("block sizes %v for %d layers: the blog's 1 and 2 layers, 8/32 and 16/32 of the depth (rounded down, at least 1), and all but one layer", res.BlockSizes, n))
	r.Details = res
	r.addFigure("curves", func() (*plot.Plot, error) { return layerCurvesPlot(res, full) })
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}

// seedValues is curve i's loss at start s in every seed.
func seedValues(perSeed []*importance.LayerCurves, i, s int) []float64 {
	out := make([]float64, len(perSeed))
	for j, c := range perSeed {
		out[j] = c.Curves[i].Loss[s]
	}
	return out
}

// layerCurvesPlot draws one line per block size: mean LM loss against the
// first removed layer, and the full model's loss as a flat line.
func layerCurvesPlot(res *LayerCurvesResult, full float64) (*plot.Plot, error) {
	var series []plots.Series
	n := res.PerSeed[0].NumLayers
	for i, k := range res.BlockSizes {
		s := plots.Series{Name: fmt.Sprintf("%d layer(s) removed", k)}
		for start, v := range res.Mean[i].Loss {
			s.X, s.Y = append(s.X, float64(start)), append(s.Y, v)
		}
		series = append(series, s)
	}
	series = append(series, plots.Series{Name: "nothing removed", X: []float64{0, float64(n - 1)}, Y: []float64{full, full}})
	return plots.Lines(series, plots.LinesOptions{Title: fmt.Sprintf("LM loss with contiguous layers removed (mean of %d draws)", len(res.Seeds)),
		XLabel: "first removed layer", YLabel: "LM loss (nats)", IntegerX: true})
}

func layerRange(start, k int) string {
	if k == 1 {
		return fmt.Sprintf("layer %d", start)
	}
	return fmt.Sprintf("layers %d–%d", start, start+k-1)
}

func argMax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}
