package reproduce

import (
	"fmt"
	"time"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/results"
)

// pairPlans returns the depth plan (half the layers, by drop-one LM loss)
// and the width plan (all heads, hidden and FFN cut) of about the same
// parameter count.
func (e *Env) pairPlans() (depth, width prune.Plan, depthParams, widthParams int64, err error) {
	cfg := e.Teacher.Config
	depth = prune.DepthPlan(max(1, cfg.NumLayers/2))
	if depthParams, err = prune.PlanParams(cfg, depth); err != nil {
		return
	}
	width, widthParams, err = prune.WidthPlan(cfg, depthParams, 0)
	return
}

// seeds returns the experiment's seeds: Sizes.Seeds of them from Env.Seed,
// 1000 apart. Each seed sets the calibration draw, the data order and (for
// from-scratch students) the initialization of one repeat.
func (e *Env) seeds() []uint64 {
	out := make([]uint64, max(1, e.Sizes.Seeds))
	for i := range out {
		out[i] = e.Seed + uint64(i)*1000
	}
	return out
}

// StudentResult is one student's numbers, one value per seed.
type StudentResult struct {
	Name        string        `json:"name"`
	Shape       results.Shape `json:"shape"`
	Plan        prune.Plan    `json:"plan"`       // as resolved for the first seed
	LossAtStep0 []float64     `json:"loss_step0"` // right after pruning
	FinalLoss   []float64     `json:"final_loss"` // after the distillation
}

// WidthDepthResult is width-vs-depth's raw result.
type WidthDepthResult struct {
	Steps       int             `json:"steps"`
	Students    []StudentResult `json:"students"`     // depth, width
	CrossStep   []int           `json:"cross_step"`   // per seed: first evaluated step where width < depth, −1 never
	ParamsApart float64         `json:"params_apart"` // |width − depth| / depth parameters
}

// WidthVsDepth prunes the teacher to equal-parameter width and depth
// students and distills both, once per seed (P1: depth has the lower loss
// right after pruning, width the lower loss after retraining).
func (e *Env) WidthVsDepth() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpWidthDepth, "Width vs depth pruning at equal parameters",
		"P1 Table 1 / Fig. 8: depth pruning has the lower LM loss right after pruning, width pruning the lower loss after a short retraining (~200 steps) and after distillation (2.049 vs 2.155 LM loss at 8B).")
	if err != nil {
		return nil, err
	}
	depthPlan, widthPlan, dp, wp, err := e.pairPlans()
	if err != nil {
		return nil, err
	}
	res := &WidthDepthResult{Steps: e.Sizes.Steps, ParamsApart: relErr(wp, dp),
		Students: []StudentResult{{Name: "depth"}, {Name: "width"}}}
	plans := []prune.Plan{depthPlan, widthPlan}
	for _, seed := range r.Seeds {
		imp, err := e.scores(e.Teacher, scoreOptions{DropOne: true, Seed: seed})
		if err != nil {
			return nil, err
		}
		var pair []results.Run
		for i := range res.Students {
			sr := &res.Students[i]
			student, pr, err := e.Prune(e.Teacher, plans[i], imp)
			if err != nil {
				return nil, err
			}
			if sr.Shape.Params == 0 {
				sr.Shape, sr.Plan = prune.ShapeOf(student.Config), pr.Plan
			}
			run, _, err := e.Train(RunSpec{Name: fmt.Sprintf("%s (%s)%s", sr.Name, sr.Shape, seedTag(seed)), Teacher: e.Teacher, Student: student,
				Steps: e.Sizes.Steps, EvalEvery: e.Sizes.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			pair = append(pair, run)
			sr.LossAtStep0 = append(sr.LossAtStep0, firstVal(run))
			sr.FinalLoss = append(sr.FinalLoss, finalVal(run))
		}
		res.CrossStep = append(res.CrossStep, crossStep(pair[1], pair[0]))
		r.Runs = append(r.Runs, pair...)
	}
	return judged(r, res, judgeAs(judgeWidthVsDepth), start)
}

// judgeWidthVsDepth: reproduced when depth < width right after pruning and
// width < depth after distillation, both beyond the seed spread (Lower).
func judgeWidthVsDepth(r *Report, res *WidthDepthResult) error {
	if len(res.Students) != 2 {
		return fmt.Errorf("reproduce: width-vs-depth result has %d students, want depth and width", len(res.Students))
	}
	d, w := res.Students[0], res.Students[1]
	r.Headers = []string{"student", "shape", "params", "LM loss after pruning", fmt.Sprintf("LM loss after %d KD steps", res.Steps)}
	r.Rows = nil
	for _, s := range res.Students {
		r.Rows = append(r.Rows, []string{s.Name, s.Shape.String(), plotsSI(s.Shape.Params), pm(s.LossAtStep0), pm(s.FinalLoss)})
	}
	atPrune := Lower("depth", d.LossAtStep0, "width", w.LossAtStep0)
	afterKD := Lower("width", w.FinalLoss, "depth", d.FinalLoss)
	r.Reproduced = atPrune.Holds && afterKD.Holds
	r.Verdict = fmt.Sprintf("Right after pruning: %s. After %d distillation steps: %s. Width overtakes depth at step %v (per seed, −1 = never).",
		atPrune, res.Steps, afterKD, res.CrossStep)
	r.Notes = []string{fmt.Sprintf("equal parameters: depth %s, width %s (%.1f%% apart)", plotsSI(d.Shape.Params), plotsSI(w.Shape.Params), 100*res.ParamsApart)}
	r.curvesFigure("curves", "Width vs depth: validation LM loss along distillation", nil)
	return nil
}

// crossStep is the first evaluated step at which a's validation loss is
// below b's, or -1.
func crossStep(a, b results.Run) int {
	bv := map[int]float64{}
	for _, s := range b.Steps {
		if s.ValLoss != nil {
			bv[s.Step] = *s.ValLoss
		}
	}
	for _, s := range a.Steps {
		if v, ok := bv[s.Step]; ok && s.ValLoss != nil && *s.ValLoss < v {
			return s.Step
		}
	}
	return -1
}

func lower(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

func plotsSI(n int64) string { return fmt.Sprintf("%.2fM", float64(n)/1e6) }

// widthStudent is the teacher pruned by the width plan of pairPlans with the
// default (L2, mean) importance on the calibration draw of seed: the student
// shared by kd-vs-ce and scratch.
func (e *Env) widthStudent(seed uint64) (*llm.Model, error) {
	_, widthPlan, _, _, err := e.pairPlans()
	if err != nil {
		return nil, err
	}
	imp, err := e.scores(e.Teacher, scoreOptions{Seed: seed})
	if err != nil {
		return nil, err
	}
	student, _, err := e.Prune(e.Teacher, widthPlan, imp)
	return student, err
}

// KDvsCEResult is kd-vs-ce's raw result, one value per seed.
type KDvsCEResult struct {
	Shape       results.Shape `json:"shape"`
	Steps       int           `json:"steps"`
	LossAtStep0 []float64     `json:"loss_step0"` // the pruned student before training
	KD          []float64     `json:"kd_final_loss"`
	CE          []float64     `json:"ce_final_loss"`
}

// KDvsCE trains the same width-pruned student with KL distillation and with
// plain LM-loss (CE) retraining on the same data and steps, once per seed
// (P1 Tables 11/15).
func (e *Env) KDvsCE() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpKDvsCE, "Distillation (KL) vs LM-loss retraining",
		"P1 Table 11/15: the pruned student recovers better with logit distillation (forward KL) than with the plain LM loss on the same data (4B: MMLU 37.8–42.5 distilled vs 24.6 LM-loss retrained; KL alone 2.107 LM loss).")
	if err != nil {
		return nil, err
	}
	res := &KDvsCEResult{Steps: e.Sizes.Steps}
	for _, seed := range r.Seeds {
		student, err := e.widthStudent(seed)
		if err != nil {
			return nil, err
		}
		res.Shape = prune.ShapeOf(student.Config)
		for _, mode := range []struct {
			name    string
			teacher *llm.Model
			final   *[]float64
		}{{"KD (forward KL)", e.Teacher, &res.KD}, {"CE (LM loss)", nil, &res.CE}} {
			run, _, err := e.Train(RunSpec{Name: mode.name + seedTag(seed), Teacher: mode.teacher, Student: student, Steps: e.Sizes.Steps,
				EvalEvery: e.Sizes.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			r.Runs = append(r.Runs, run)
			*mode.final = append(*mode.final, finalVal(run))
			if mode.teacher != nil {
				res.LossAtStep0 = append(res.LossAtStep0, firstVal(run))
			}
		}
	}
	return judged(r, res, judgeAs(judgeKDvsCE), start)
}

// judgeKDvsCE: reproduced when KD < CE after the steps beyond the seed
// spread (Lower).
func judgeKDvsCE(r *Report, res *KDvsCEResult) error {
	r.Headers = []string{"objective", "student", "LM loss after pruning", fmt.Sprintf("LM loss after %d steps", res.Steps)}
	r.Rows = [][]string{
		{"KD (forward KL, τ=1)", res.Shape.String(), pm(res.LossAtStep0), pm(res.KD)},
		{"CE (next-token LM loss)", res.Shape.String(), pm(res.LossAtStep0), pm(res.CE)},
	}
	c := Lower("KD", res.KD, "CE", res.CE)
	r.Reproduced = c.Holds
	r.Verdict = fmt.Sprintf("Validation LM loss after %d steps: %s.", res.Steps, c)
	if r.Reproduced {
		r.Verdict += " The CE run optimizes the very metric reported, so KD winning on it is the stronger result."
	}
	r.curvesFigure("curves", "KD vs CE: validation LM loss", nil)
	return nil
}
