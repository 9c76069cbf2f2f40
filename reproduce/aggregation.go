package reproduce

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/prune"
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
	return &Report{Experiment: exp, Title: title, Claim: claim, Scale: e.Scale, Seed: e.Seed, Seeds: e.seeds(), Sizes: e.Sizes,
		Teacher: e.TeacherDir, TeacherShape: prune.ShapeOf(e.Teacher.Config), TeacherValLoss: tl, Notes: slices.Clone(e.Notes)}, nil
}

// AggregationRow is one batch × sequence aggregation's outcome, one value
// per seed; ranks are by the mean over seeds.
type AggregationRow struct {
	Batch          string    `json:"batch"`
	Seq            string    `json:"seq"`
	LossAfterPrune []float64 `json:"loss_after_prune"`
	LossAfterKD    []float64 `json:"loss_after_distill"`
	RankPrune      int       `json:"rank_after_prune"` // 1 = lowest mean loss
	RankKD         int       `json:"rank_after_distill"`
}

// AggregationResult is aggregation's raw result.
type AggregationResult struct {
	Plan       prune.Plan       `json:"plan"`
	ShortSteps int              `json:"short_steps"`
	Rows       []AggregationRow `json:"rows"`
}

// fixedWidthPlan is the aggregation experiment's target shape.
func fixedWidthPlan(hidden, ffn, perGroup int) prune.Plan {
	return prune.Plan{Hidden: hidden * 3 / 4, FFN: ffn / 2, HeadsPerGroup: max(1, perGroup/2)}
}

// Aggregation estimates importance with each of the 9 batch × sequence
// aggregations, prunes the teacher to one fixed width shape with each, and
// measures the validation LM loss right after pruning and after
// Sizes.ShortSteps of distillation, once per seed (P1 Table 13).
func (e *Env) Aggregation() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpAggregation, "Importance aggregation (batch × sequence)",
		"P1 Table 13: of the 9 batch ∈ {L2, mean, var} × sequence ∈ {L2, mean, var} aggregations, (L2, mean) gives the best LM loss after pruning, (var, var) the worst.")
	if err != nil {
		return nil, err
	}
	cfg := e.Teacher.Config
	res := &AggregationResult{Plan: fixedWidthPlan(cfg.Hidden, cfg.FFN, cfg.NumHeads/cfg.NumKVHeads), ShortSteps: e.Sizes.ShortSteps}
	for _, b := range []importance.BatchAgg{importance.BatchL2, importance.BatchMean, importance.BatchVar} {
		for _, s := range []importance.SeqAgg{importance.SeqL2, importance.SeqMean, importance.SeqVar} {
			res.Rows = append(res.Rows, AggregationRow{Batch: string(b), Seq: string(s)})
		}
	}
	for _, seed := range r.Seeds {
		for i := range res.Rows {
			row := &res.Rows[i]
			agg := importance.Aggregation{Batch: importance.BatchAgg(row.Batch), Seq: importance.SeqAgg(row.Seq)}
			e.logf("aggregation batch=%s seq=%s seed=%d", row.Batch, row.Seq, seed)
			imp, err := e.scores(e.Teacher, scoreOptions{Agg: agg, Seed: seed})
			if err != nil {
				return nil, err
			}
			student, _, err := e.Prune(e.Teacher, res.Plan, imp)
			if err != nil {
				return nil, err
			}
			atStep0, final, err := e.trainInto(r, RunSpec{Name: fmt.Sprintf("(%s, %s)%s", row.Batch, row.Seq, seedTag(seed)), Teacher: e.Teacher, Student: student,
				Steps: e.Sizes.ShortSteps, EvalEvery: e.Sizes.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			row.LossAfterPrune = append(row.LossAfterPrune, atStep0)
			row.LossAfterKD = append(row.LossAfterKD, final)
		}
	}
	return judged(r, res, judgeAs(judgeAggregation), start)
}

// judgeAggregation: reproduced when, on the LM loss right after pruning,
// (L2, mean) < (var, var) beyond the seed spread (Lower), no aggregation is
// lower than (L2, mean) beyond the spread and none is higher than (var, var)
// beyond it.
func judgeAggregation(r *Report, res *AggregationResult) error {
	rows := res.Rows
	mean := func(xs []float64) float64 { m, _ := meanStd(xs); return m }
	rank(rows, func(a AggregationRow) float64 { return mean(a.LossAfterPrune) }, func(a *AggregationRow, k int) { a.RankPrune = k })
	rank(rows, func(a AggregationRow) float64 { return mean(a.LossAfterKD) }, func(a *AggregationRow, k int) { a.RankKD = k })
	r.Headers = []string{"batch", "sequence", "LM loss after pruning", "rank", fmt.Sprintf("LM loss after %d distillation steps", res.ShortSteps), "rank"}
	r.Rows = nil
	best, worst := -1, -1
	for i, row := range rows {
		r.Rows = append(r.Rows, []string{row.Batch, row.Seq, pm(row.LossAfterPrune), fmt.Sprint(row.RankPrune), pm(row.LossAfterKD), fmt.Sprint(row.RankKD)})
		switch {
		case row.Batch == "l2" && row.Seq == "mean":
			best = i
		case row.Batch == "var" && row.Seq == "var":
			worst = i
		}
	}
	if best < 0 || worst < 0 {
		return fmt.Errorf("reproduce: aggregation result lacks the (l2, mean) or (var, var) row")
	}
	name := func(a AggregationRow) string { return fmt.Sprintf("(%s, %s)", a.Batch, a.Seq) }
	b, w := rows[best], rows[worst]
	ends := Lower(name(b), b.LossAfterPrune, name(w), w.LossAfterPrune)
	var beatBest, aboveWorst []string
	for i, row := range rows {
		if i != best && Lower(name(row), row.LossAfterPrune, name(b), b.LossAfterPrune).Holds {
			beatBest = append(beatBest, name(row))
		}
		if i != worst && Lower(name(w), w.LossAfterPrune, name(row), row.LossAfterPrune).Holds {
			aboveWorst = append(aboveWorst, name(row))
		}
	}
	r.Reproduced = ends.Holds && len(beatBest) == 0 && len(aboveWorst) == 0
	n := len(rows)
	r.Verdict = fmt.Sprintf("After pruning (ranks by mean): (L2, mean) %d/%d, (var, var) %d/%d; %s. Lower than (L2, mean) beyond the seed spread: %s; higher than (var, var) beyond it: %s. After %d distillation steps they rank %d and %d.",
		b.RankPrune, n, w.RankPrune, n, ends, listOrNone(beatBest), listOrNone(aboveWorst), res.ShortSteps, b.RankKD, w.RankKD)
	r.Notes = []string{fmt.Sprintf("%s: %s", aggregationNote, planString(res.Plan))}
	r.curvesFigure("curves", "Aggregations: validation LM loss along distillation", nil)
	return nil
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
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
