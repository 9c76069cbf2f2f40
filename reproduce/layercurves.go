package reproduce

import (
	"fmt"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/plots"
)

// LayerCurvesResult is the layer-curves experiment's raw numbers: per
// calibration seed, the LM loss with every contiguous block removed.
type LayerCurvesResult struct {
	BlockSizes []int                     `json:"block_sizes"` // importance.ScaledBlockSizes(numLayers)
	Seeds      []uint64                  `json:"seeds"`       // calibration draws
	PerSeed    []*importance.LayerCurves `json:"per_seed"`
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
	res := &LayerCurvesResult{BlockSizes: importance.ScaledBlockSizes(n), Seeds: r.Seeds}
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
	}
	return judged(r, res, judgeAs(judgeLayerCurves), start)
}

// judgeLayerCurves: reproduced when, with one layer removed, removing any
// middle layer costs less than removing the first layer and less than
// removing the last one, each comparison by the verdict rule paired by
// calibration draw (Lower), on a teacher of at least 3 layers.
func judgeLayerCurves(r *Report, res *LayerCurvesResult) error {
	if len(res.PerSeed) == 0 || len(res.BlockSizes) == 0 || res.BlockSizes[0] != 1 {
		return fmt.Errorf("reproduce: layer-curves result has %d seeds and block sizes %v, want at least one seed and block size 1 first", len(res.PerSeed), res.BlockSizes)
	}
	n := res.PerSeed[0].NumLayers
	for i, c := range res.PerSeed {
		if c == nil || c.NumLayers != n || len(c.Curves) != len(res.BlockSizes) {
			return fmt.Errorf("reproduce: layer-curves seed %d: curves do not match block sizes %v of %d layers", i, res.BlockSizes, n)
		}
		for j, k := range res.BlockSizes {
			if c.Curves[j].BlockSize != k || len(c.Curves[j].Loss) != n-k+1 {
				return fmt.Errorf("reproduce: layer-curves seed %d: block size %d has %d starts, want %d", i, k, len(c.Curves[j].Loss), n-k+1)
			}
		}
	}
	full := make([]float64, len(res.PerSeed))
	for i, c := range res.PerSeed {
		full[i] = c.FullLoss
	}
	r.Headers = []string{"layers removed", "start 0 (first layer)", "best start", "worst start", "end block (last layer)"}
	r.Rows = nil
	for i, k := range res.BlockSizes {
		mean := layerCurveMean(res.PerSeed, i)
		last := len(mean) - 1
		best, worst := llm.Argmin(mean), llm.Argmax(mean)
		cell := func(s int) string {
			return fmt.Sprintf("%s (%s)", pm(seedValues(res.PerSeed, i, s)), layerRange(s, k))
		}
		r.Rows = append(r.Rows, []string{fmt.Sprint(k), cell(0), cell(best), cell(worst), cell(last)})
	}
	// The claim at block size 1: every middle layer costs less to remove
	// than the first and than the last layer.
	holds := n > 2
	var against []string
	for s := 1; s < n-1; s++ {
		for _, edge := range []int{0, n - 1} {
			c := Lower(fmt.Sprintf("layer %d", s), seedValues(res.PerSeed, 0, s), fmt.Sprintf("layer %d", edge), seedValues(res.PerSeed, 0, edge))
			if !c.Holds {
				holds = false
				against = append(against, c.String())
			}
		}
	}
	r.Reproduced = holds
	var cost []string
	for s := range n {
		cost = append(cost, fmt.Sprintf("layer %d %s", s, pm(seedValues(res.PerSeed, 0, s))))
	}
	r.Verdict = fmt.Sprintf("LM loss with one layer removed (full model %s) over %d calibration draws: %s.", pm(full), len(res.PerSeed), strings.Join(cost, ", "))
	switch {
	case holds:
		r.Verdict += " Every middle layer costs less to remove than the first and than the last layer, beyond the seed spread."
	case n <= 2:
		r.Verdict += fmt.Sprintf(" A %d-layer teacher has no middle layer: nothing to test.", n)
	default:
		r.Verdict += " Not every middle layer is below both edges beyond the seed spread: " + strings.Join(against, "; ") + "."
	}
	r.Notes = []string{fmt.Sprintf("block sizes %v for %d layers: the blog's 1 and 2 layers, 8/32 and 16/32 of the depth (rounded down, at least 1), and all but one layer", res.BlockSizes, n)}
	fm, _ := meanStd(full)
	r.addFigure("curves", func() (*plot.Plot, error) { return layerCurvesPlot(res, fm) })
	return nil
}

// layerCurveMean is block size i's loss at every start, averaged over seeds.
func layerCurveMean(perSeed []*importance.LayerCurves, i int) []float64 {
	out := make([]float64, len(perSeed[0].Curves[i].Loss))
	for s := range out {
		out[s], _ = meanStd(seedValues(perSeed, i, s))
	}
	return out
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
		for start, v := range layerCurveMean(res.PerSeed, i) {
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
