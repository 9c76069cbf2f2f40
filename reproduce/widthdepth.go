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
	depth = DepthPlan(max(1, cfg.NumLayers/2))
	if depthParams, err = planParams(cfg, depth); err != nil {
		return
	}
	width, widthParams, err = WidthPlan(cfg, depthParams, 0)
	return
}

// seeds returns the data-order seeds of the variance runs.
func (e *Env) seeds() []uint64 {
	out := make([]uint64, max(1, e.Sizes.Seeds))
	for i := range out {
		out[i] = e.Seed + uint64(i)*1000
	}
	return out
}

// StudentResult is one student's numbers.
type StudentResult struct {
	Name        string        `json:"name"`
	Shape       results.Shape `json:"shape"`
	Plan        prune.Plan    `json:"plan"`
	LossAtStep0 float64       `json:"loss_step0"`
	FinalLoss   []float64     `json:"final_loss"` // per seed
	Steps       int           `json:"steps"`
	// CrossStep is the first evaluated step where this student's loss is
	// below the other's (width vs depth), -1 if never.
	CrossStep int `json:"cross_step,omitempty"`
}

// WidthVsDepth prunes the teacher to equal-parameter width and depth
// students and distills both (P1: depth has the lower loss right after
// pruning, width the lower loss after retraining).
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
	imp, err := e.Scores(e.Teacher, defaultAgg(), true)
	if err != nil {
		return nil, err
	}
	var runs []results.Run
	res := map[string]*StudentResult{}
	var order []string
	for _, c := range []struct {
		name   string
		plan   prune.Plan
		params int64
	}{{"depth", depthPlan, dp}, {"width", widthPlan, wp}} {
		student, pr, err := e.Prune(e.Teacher, c.plan, imp)
		if err != nil {
			return nil, err
		}
		sr := &StudentResult{Name: c.name, Shape: prune.ShapeOf(student.Config), Plan: pr.Plan, Steps: e.Sizes.Steps}
		for i, seed := range e.seeds() {
			run, _, err := e.Train(RunSpec{Name: fmt.Sprintf("%s (%s)", c.name, sr.Shape), Teacher: e.Teacher, Student: student,
				Steps: e.Sizes.Steps, EvalEvery: e.Sizes.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			if i == 0 {
				runs = append(runs, run)
				sr.LossAtStep0 = firstVal(run)
			}
			sr.FinalLoss = append(sr.FinalLoss, finalVal(run))
		}
		res[c.name] = sr
		order = append(order, c.name)
	}
	d, w := res["depth"], res["width"]
	cross := crossStep(runs[1], runs[0]) // first step where width < depth
	r.Headers = []string{"student", "shape", "params", "LM loss after pruning", fmt.Sprintf("LM loss after %d KD steps", e.Sizes.Steps)}
	for _, n := range order {
		s := res[n]
		r.Rows = append(r.Rows, []string{n, s.Shape.String(), plotsSI(s.Shape.Params), f4(s.LossAtStep0), pm(s.FinalLoss)})
	}
	dm, _ := meanStd(d.FinalLoss)
	wm, _ := meanStd(w.FinalLoss)
	depthFirst := d.LossAtStep0 < w.LossAtStep0
	widthLast := wm < dm
	r.Reproduced = depthFirst && widthLast
	r.Verdict = fmt.Sprintf("Right after pruning: depth %.4f vs width %.4f (%s lower). After %d distillation steps: depth %.4f vs width %.4f (%s lower)",
		d.LossAtStep0, w.LossAtStep0, lower(depthFirst, "depth", "width"), e.Sizes.Steps, dm, wm, lower(widthLast, "width", "depth"))
	if cross >= 0 {
		r.Verdict += fmt.Sprintf("; width overtakes depth at step %d.", cross)
	} else {
		r.Verdict += "."
	}
	if len(d.FinalLoss) > 1 {
		r.Verdict += fmt.Sprintf(" Mean ± std over %d data-order seeds.", len(d.FinalLoss))
	}
	r.Notes = append(r.Notes, fmt.Sprintf("equal parameters: depth %d, width %d (%.1f%% apart)", dp, wp, 100*relErr(wp, dp)))
	r.Runs, r.Details = runs, []*StudentResult{d, w}
	r.curvesFigure("curves", "Width vs depth: validation LM loss along distillation", runs)
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
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
// default (L2, mean) importance: the student shared by kd-vs-ce and scratch.
func (e *Env) widthStudent() (*llm.Model, error) {
	_, widthPlan, _, _, err := e.pairPlans()
	if err != nil {
		return nil, err
	}
	imp, err := e.Scores(e.Teacher, defaultAgg(), false)
	if err != nil {
		return nil, err
	}
	student, _, err := e.Prune(e.Teacher, widthPlan, imp)
	return student, err
}

// KDvsCE trains the same width-pruned student with KL distillation and with
// plain LM-loss (CE) retraining on the same data and steps (P1 Tables 11/15).
func (e *Env) KDvsCE() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpKDvsCE, "Distillation (KL) vs LM-loss retraining",
		"P1 Table 11/15: the pruned student recovers better with logit distillation (forward KL) than with the plain LM loss on the same data (4B: MMLU 37.8–42.5 distilled vs 24.6 LM-loss retrained; KL alone 2.107 LM loss).")
	if err != nil {
		return nil, err
	}
	student, err := e.widthStudent()
	if err != nil {
		return nil, err
	}
	shape := prune.ShapeOf(student.Config)
	var runs []results.Run
	final := map[string][]float64{}
	for _, mode := range []struct {
		name    string
		teacher *llm.Model
	}{{"KD (forward KL)", e.Teacher}, {"CE (LM loss)", nil}} {
		for i, seed := range e.seeds() {
			run, _, err := e.Train(RunSpec{Name: mode.name, Teacher: mode.teacher, Student: student, Steps: e.Sizes.Steps,
				EvalEvery: e.Sizes.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			if i == 0 {
				runs = append(runs, run)
			}
			final[mode.name] = append(final[mode.name], finalVal(run))
		}
	}
	kd, ce := final["KD (forward KL)"], final["CE (LM loss)"]
	km, _ := meanStd(kd)
	cm, _ := meanStd(ce)
	r.Headers = []string{"objective", "student", "LM loss after pruning", fmt.Sprintf("LM loss after %d steps", e.Sizes.Steps)}
	r.Rows = [][]string{
		{"KD (forward KL, τ=1)", shape.String(), f4(firstVal(runs[0])), pm(kd)},
		{"CE (next-token LM loss)", shape.String(), f4(firstVal(runs[1])), pm(ce)},
	}
	r.Reproduced = km < cm
	r.Verdict = fmt.Sprintf("Validation LM loss after %d steps: KD %.4f vs CE %.4f (%s better by %.4f nats)",
		e.Sizes.Steps, km, cm, lower(km < cm, "KD", "CE"), abs(cm-km))
	if len(kd) > 1 {
		_, ks := meanStd(kd)
		_, cs := meanStd(ce)
		r.Verdict += fmt.Sprintf("; seed std %.4f (KD) and %.4f (CE) over %d seeds", ks, cs, len(kd))
	}
	r.Verdict += "."
	if r.Reproduced {
		r.Verdict += " The CE run optimizes the very metric reported, so KD winning on it is the stronger result."
	}
	r.Runs, r.Details = runs, map[string][]float64{"kd_final_loss": kd, "ce_final_loss": ce}
	r.curvesFigure("curves", "KD vs CE: validation LM loss", runs)
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
