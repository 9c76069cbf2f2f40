package reproduce

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/results"
)

// Experiment names (the CLI's EXPERIMENT argument and the output folders).
const (
	ExpAggregation  = "aggregation"
	ExpWidthDepth   = "width-vs-depth"
	ExpKDvsCE       = "kd-vs-ce"
	ExpIterative    = "iterative"
	ExpDepthChoice  = "depth-choice"
	ExpScratch      = "scratch"
	ExpFamilyChain  = "family-chain"
	ExpSearch       = "search"
	ExpCorrection   = "teacher-correction"
	ExpDepthLosses  = "depth-losses"
	ExpSDGvsKD      = "sdg-vs-kd"
	ExpLayerCurves  = "layer-curves"
	ExpThroughput   = "throughput"
	ExpAll          = "all"
	aggregationNote = "width plan: hidden ×¾, FFN ×½, heads per group ×½ (at least 1)"
)

// Experiments lists the experiments in the order `all` runs them.
var Experiments = []string{ExpAggregation, ExpWidthDepth, ExpKDvsCE, ExpIterative, ExpDepthChoice, ExpScratch, ExpFamilyChain, ExpSearch,
	ExpCorrection, ExpDepthLosses, ExpSDGvsKD, ExpLayerCurves, ExpThroughput}

// newReport starts a report with the teacher's description.
func (e *Env) newReport(exp, title, claim string) (*Report, error) {
	tl, err := e.TeacherValLoss()
	if err != nil {
		return nil, err
	}
	return &Report{Experiment: exp, Title: title, Claim: claim, Scale: e.Scale, Seed: e.Seed, Sizes: e.Sizes,
		Teacher: e.TeacherDir, TeacherShape: prune.ShapeOf(e.Teacher.Config), TeacherValLoss: tl, Notes: slices.Clone(e.Notes)}, nil
}

// AggregationRow is one batch × sequence aggregation's outcome.
type AggregationRow struct {
	Batch          string  `json:"batch"`
	Seq            string  `json:"seq"`
	LossAfterPrune float64 `json:"loss_after_prune"`
	LossAfterKD    float64 `json:"loss_after_distill"`
	RankPrune      int     `json:"rank_after_prune"` // 1 = lowest loss
	RankKD         int     `json:"rank_after_distill"`
}

// fixedWidthPlan is the aggregation experiment's target shape.
func fixedWidthPlan(hidden, ffn, perGroup int) prune.Plan {
	return prune.Plan{Hidden: hidden * 3 / 4, FFN: ffn / 2, HeadsPerGroup: max(1, perGroup/2)}
}

// Aggregation estimates importance with each of the 9 batch × sequence
// aggregations, prunes the teacher to one fixed width shape with each, and
// measures the validation LM loss right after pruning and after
// Sizes.ShortSteps of distillation (P1 Table 13).
func (e *Env) Aggregation() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpAggregation, "Importance aggregation (batch × sequence)",
		"P1 Table 13: of the 9 batch ∈ {L2, mean, var} × sequence ∈ {L2, mean, var} aggregations, (L2, mean) gives the best LM loss after pruning, (var, var) the worst.")
	if err != nil {
		return nil, err
	}
	cfg := e.Teacher.Config
	plan := fixedWidthPlan(cfg.Hidden, cfg.FFN, cfg.NumHeads/cfg.NumKVHeads)
	r.Notes = append(r.Notes, fmt.Sprintf("%s: %s", aggregationNote, planString(plan)))
	var rows []AggregationRow
	var runs []results.Run
	for _, b := range []importance.BatchAgg{importance.BatchL2, importance.BatchMean, importance.BatchVar} {
		for _, s := range []importance.SeqAgg{importance.SeqL2, importance.SeqMean, importance.SeqVar} {
			agg := importance.Aggregation{Batch: b, Seq: s}
			e.logf("aggregation batch=%s seq=%s", b, s)
			imp, err := e.Scores(e.Teacher, agg, false)
			if err != nil {
				return nil, err
			}
			student, _, err := e.Prune(e.Teacher, plan, imp)
			if err != nil {
				return nil, err
			}
			run, _, err := e.Train(RunSpec{Name: fmt.Sprintf("(%s, %s)", b, s), Teacher: e.Teacher, Student: student,
				Steps: e.Sizes.ShortSteps, EvalEvery: e.Sizes.EvalEvery})
			if err != nil {
				return nil, err
			}
			runs = append(runs, run)
			rows = append(rows, AggregationRow{Batch: string(b), Seq: string(s), LossAfterPrune: firstVal(run), LossAfterKD: finalVal(run)})
		}
	}
	// Calibration noise: the default aggregation on other calibration draws
	// (loss right after pruning only).
	noise := []float64{}
	for i := range max(1, e.Sizes.Seeds) + 1 {
		seed := e.Seed + uint64(i)*1000
		imp, err := e.scores(e.Teacher, scoreOptions{Agg: defaultAgg(), Seed: seed})
		if err != nil {
			return nil, err
		}
		student, _, err := e.Prune(e.Teacher, plan, imp)
		if err != nil {
			return nil, err
		}
		v, err := e.ValLoss(student)
		if err != nil {
			return nil, err
		}
		noise = append(noise, v)
	}
	rank(rows, func(a AggregationRow) float64 { return a.LossAfterPrune }, func(a *AggregationRow, k int) { a.RankPrune = k })
	rank(rows, func(a AggregationRow) float64 { return a.LossAfterKD }, func(a *AggregationRow, k int) { a.RankKD = k })
	r.Headers = []string{"batch", "sequence", "LM loss after pruning", "rank", fmt.Sprintf("LM loss after %d distillation steps", e.Sizes.ShortSteps), "rank"}
	var best, worst AggregationRow
	for _, row := range rows {
		r.Rows = append(r.Rows, []string{row.Batch, row.Seq, f4(row.LossAfterPrune), fmt.Sprint(row.RankPrune), f4(row.LossAfterKD), fmt.Sprint(row.RankKD)})
		if row.Batch == "l2" && row.Seq == "mean" {
			best = row
		}
		if row.Batch == "var" && row.Seq == "var" {
			worst = row
		}
	}
	n := len(rows)
	r.Reproduced = best.RankPrune == 1 && worst.RankPrune == n
	r.Verdict = fmt.Sprintf("After pruning, (L2, mean) ranks %d/%d (%.4f) and (var, var) ranks %d/%d (%.4f); after %d distillation steps they rank %d and %d.",
		best.RankPrune, n, best.LossAfterPrune, worst.RankPrune, n, worst.LossAfterPrune, e.Sizes.ShortSteps, best.RankKD, worst.RankKD)
	if !r.Reproduced && best.RankPrune <= 3 && worst.RankPrune >= n-2 {
		r.Verdict += " The ordering holds loosely (best in the top 3, worst in the bottom 3) but not exactly."
	}
	if len(noise) > 1 {
		m, sd := meanStd(noise)
		r.Verdict += fmt.Sprintf(" Calibration noise: (L2, mean) over %d calibration draws gives %.4f ± %.4f right after pruning.", len(noise), m, sd)
	}
	r.Runs, r.Details = runs, map[string]any{"rows": rows, "calibration_draws_l2_mean": noise}
	r.curvesFigure("curves", "Aggregations: validation LM loss along distillation", runs)
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}

// rank sets 1-based ranks (1 = lowest value) on rows.
func rank[T any](rows []T, value func(T) float64, set func(*T, int)) {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return value(rows[idx[a]]) < value(rows[idx[b]]) })
	for k, i := range idx {
		set(&rows[i], k+1)
	}
}
