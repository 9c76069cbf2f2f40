package reproduce

import (
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/plot"

	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/plots"
	"github.com/gominitron/gominitron/results"
)

// DefaultSearchTolerance is the ±fraction of the parameter budget a
// candidate may deviate (P1: ±5%).
const DefaultSearchTolerance = 0.05

// SearchOptions configures Search.
type SearchOptions struct {
	Params     int64               // parameter budget (0: half the teacher)
	Tolerance  float64             // ± fraction of Params (default DefaultSearchTolerance)
	Steps      int                 // distillation steps per candidate (0: Sizes.SearchSteps)
	EvalEvery  int                 // validation (ranking checkpoint) every N steps (0: Sizes.SearchEvalEvery)
	Candidates int                 // shapes distilled (0: Sizes.SearchCandidates), spread over the enumerated ones
	Importance *results.Importance // scores of the teacher with drop_one_lm_loss (nil: estimated)
}

// spread picks n plans spread over the enumeration: for each (layers, heads)
// pair present, the plan with the most balanced hidden/FFN cut, then evenly
// spaced ones among those pairs.
func spread(cfg *llm.Config, all []prune.SizedPlan, n int) []prune.SizedPlan {
	type key struct{ layers, hpg int }
	best := map[key]prune.SizedPlan{}
	var keys []key
	balance := func(p prune.Plan) float64 {
		return math.Abs(float64(p.Hidden)/float64(cfg.Hidden) - float64(p.FFN)/float64(cfg.FFN))
	}
	for _, sp := range all {
		k := key{sp.Plan.Layers, sp.Plan.HeadsPerGroup}
		cur, ok := best[k]
		if !ok {
			keys = append(keys, k)
		}
		if !ok || balance(sp.Plan) < balance(cur.Plan) {
			best[k] = sp
		}
	}
	if len(keys) <= n {
		out := make([]prune.SizedPlan, 0, len(keys))
		for _, k := range keys {
			out = append(out, best[k])
		}
		return out
	}
	out := make([]prune.SizedPlan, 0, n)
	for i := range n {
		j := int(math.Round(float64(i) * float64(len(keys)-1) / float64(max(1, n-1))))
		out = append(out, best[keys[j]])
	}
	return out
}

// TauStable is the Kendall τ with the final ranking from which a ranking
// counts as settled.
const TauStable = 0.8

// SearchResult is the architecture search's raw result.
type SearchResult struct {
	Budget     int64        `json:"budget"`
	Tolerance  float64      `json:"tolerance"`
	Enumerated int          `json:"enumerated"` // shapes within the budget
	Steps      int          `json:"steps"`
	Seeds      []SearchSeed `json:"per_seed"`
}

// SearchSeed is one seed's search: every candidate's curve and how the
// ranking at each checkpoint agrees with the final one.
type SearchSeed struct {
	Seed       uint64              `json:"seed"`
	Candidates []results.Candidate `json:"candidates"`
	Best       string              `json:"best"`
	Agreement  []RankAgreement     `json:"agreement"`
	// StableStep is the first checkpoint from which the best candidate is the
	// final best and Kendall's τ with the final ranking stays ≥ TauStable.
	StableStep int `json:"stable_step"`
}

// RankAgreement compares the ranking at a step with the final ranking.
type RankAgreement struct {
	Step     int     `json:"step"`
	Spearman float64 `json:"spearman"`
	Kendall  float64 `json:"kendall"`
	Best     string  `json:"best"` // lowest loss at this step
}

// Search enumerates shapes within ±tolerance of the budget, distills a spread
// of them for the same steps, once per seed (calibration draw unless
// o.Importance is given, and data order), and reports how the ranking at
// each checkpoint agrees with the final one: P1's point is that the ranking
// right after pruning misleads and a short distillation fixes it.
func (e *Env) Search(o SearchOptions) (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpSearch, "Architecture search",
		"P1 §4 (Fig. 9): enumerate shapes within ±5% of the budget, distill each briefly (~400 steps), keep the best; the ranking right after pruning is misleading and the ranking of candidates settles after ~300 steps.")
	if err != nil {
		return nil, err
	}
	cfg := e.Teacher.Config
	if o.Params == 0 {
		o.Params = cfg.Params().Total / 2
	}
	if o.Tolerance == 0 {
		o.Tolerance = DefaultSearchTolerance
	}
	if o.Steps == 0 {
		o.Steps = e.Sizes.SearchSteps
	}
	if o.EvalEvery == 0 {
		o.EvalEvery = e.Sizes.SearchEvalEvery
	}
	if o.Candidates == 0 {
		o.Candidates = e.Sizes.SearchCandidates
	}
	all, err := prune.EnumerateShapes(cfg, o.Params, o.Tolerance)
	if err != nil {
		return nil, err
	}
	picked := spread(cfg, all, o.Candidates)
	e.logf("search: %d shapes within ±%.0f%% of %d params; distilling %d for %d steps", len(all), 100*o.Tolerance, o.Params, len(picked), o.Steps)
	res := &SearchResult{Budget: o.Params, Tolerance: o.Tolerance, Enumerated: len(all), Steps: o.Steps}
	for _, seed := range r.Seeds {
		imp := o.Importance
		if imp == nil {
			if imp, err = e.scores(e.Teacher, scoreOptions{DropOne: true, Seed: seed}); err != nil {
				return nil, err
			}
		}
		ss := SearchSeed{Seed: seed}
		for _, sp := range picked {
			student, _, err := e.Prune(e.Teacher, sp.Plan, imp)
			if err != nil {
				return nil, fmt.Errorf("reproduce: candidate %s: %w", sp.Name, err)
			}
			run, _, err := e.Train(RunSpec{Name: sp.Name + seedTag(seed), Teacher: e.Teacher, Student: student, Steps: o.Steps,
				EvalEvery: o.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			r.Runs = append(r.Runs, run)
			c := results.Candidate{Name: sp.Name, Shape: prune.ShapeOf(student.Config), Params: sp.Params}
			for _, st := range run.Steps {
				if st.ValLoss != nil {
					c.Losses = append(c.Losses, results.StepLoss{Step: st.Step, Loss: *st.ValLoss})
				}
			}
			ss.Candidates = append(ss.Candidates, c)
		}
		ss.Best, ss.Agreement, ss.StableStep = rankAgreement(ss.Candidates)
		res.Seeds = append(res.Seeds, ss)
	}
	return judged(r, res, judgeAs(judgeSearch), start)
}

// rankAgreement compares the candidates' ranking at every checkpoint with
// the final one: the final best, the agreement per step and the step from
// which the ranking is settled (see SearchSeed.StableStep).
func rankAgreement(cands []results.Candidate) (best string, ag []RankAgreement, stable int) {
	final := lossesAt(cands, -1)
	best = cands[llm.Argmin(final)].Name
	for _, sl := range cands[0].Losses {
		at := lossesAt(cands, sl.Step)
		a := RankAgreement{Step: sl.Step, Best: cands[llm.Argmin(at)].Name}
		a.Spearman, _ = importance.Spearman(at, final)
		a.Kendall, _ = importance.KendallTau(at, final)
		ag = append(ag, a)
	}
	stable = -1
	for i := len(ag) - 1; i >= 0; i-- {
		if ag[i].Best != best || ag[i].Kendall < TauStable {
			break
		}
		stable = ag[i].Step
	}
	return best, ag, stable
}

// judgeSearch: P1's point is reproduced when (1) the ranking right after
// pruning misleads — Kendall τ(step 0, final) is below TauStable beyond the
// seed spread (Lower against the constant TauStable) — and (2) a short
// distillation fixes it — the ranking settles before the last step in every
// seed.
func judgeSearch(r *Report, res *SearchResult) error {
	if len(res.Seeds) == 0 || len(res.Seeds[0].Candidates) == 0 {
		return fmt.Errorf("reproduce: search result has no candidates")
	}
	cands := res.Seeds[0].Candidates
	step0 := make([][]float64, len(cands))
	final := make([][]float64, len(cands))
	var tau0, tauStable []float64
	settledAll := true
	for _, ss := range res.Seeds {
		if len(ss.Candidates) != len(cands) {
			return fmt.Errorf("reproduce: search seed %d has %d candidates, seed %d has %d", ss.Seed, len(ss.Candidates), res.Seeds[0].Seed, len(cands))
		}
		for _, c := range ss.Candidates {
			if len(c.Losses) == 0 {
				return fmt.Errorf("reproduce: search seed %d: candidate %s has no losses", ss.Seed, c.Name)
			}
		}
		for i, c := range ss.Candidates {
			step0[i] = append(step0[i], c.Losses[0].Loss)
			final[i] = append(final[i], c.Losses[len(c.Losses)-1].Loss)
		}
		if len(ss.Agreement) > 0 {
			tau0 = append(tau0, ss.Agreement[0].Kendall)
		}
		tauStable = append(tauStable, TauStable)
		settledAll = settledAll && ss.StableStep >= 0 && ss.StableStep < res.Steps
	}
	means := make([]float64, len(cands))
	for i := range cands {
		means[i], _ = meanStd(final[i])
	}
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return means[order[a]] < means[order[b]] })
	r.Headers = []string{"candidate", "shape", "params", "LM loss after pruning", fmt.Sprintf("LM loss after %d steps", res.Steps), "rank (mean)"}
	r.Rows = nil
	for k, i := range order {
		c := cands[i]
		r.Rows = append(r.Rows, []string{c.Name, c.Shape.String(), plotsSI(c.Params), pm(step0[i]), pm(final[i]), fmt.Sprint(k + 1)})
	}
	misleads := Lower("τ(step 0, final)", tau0, fmt.Sprintf("%.1f", TauStable), tauStable[:len(tau0)])
	r.Reproduced = misleads.Holds && settledAll
	r.Verdict = fmt.Sprintf("%d shapes within ±%.0f%% of %s params; %d distilled for %d steps; best by mean %s (%s). Kendall τ between the step-0 and the final ranking: %s per seed %.2f; %s. The ranking settles (same best, τ ≥ %.1f from then on) at step %v per seed (%s).",
		res.Enumerated, 100*res.Tolerance, plotsSI(res.Budget), len(cands), res.Steps, cands[order[0]].Name, pm(final[order[0]]),
		pm(tau0), tau0, misleads, TauStable, stableSteps(res.Seeds), lower(settledAll, "before the last step in every seed", "not before the last step in every seed"))
	r.Notes = []string{"Kendall τ and Spearman ρ with the final ranking at every checkpoint, per seed: result.json details.per_seed[].agreement"}
	r.curvesFigure("curves", "Architecture search: validation LM loss per candidate", nil)
	r.addFigure("params-vs-loss", func() (*plot.Plot, error) { return plots.ParamsVsLoss(cands) })
	return nil
}

func stableSteps(seeds []SearchSeed) []int {
	out := make([]int, len(seeds))
	for i, s := range seeds {
		out[i] = s.StableStep
	}
	return out
}

// lossesAt returns each candidate's loss at step (-1: the last).
func lossesAt(cands []results.Candidate, step int) []float64 {
	out := make([]float64, len(cands))
	for i, c := range cands {
		out[i] = c.Losses[len(c.Losses)-1].Loss
		if step >= 0 {
			for _, sl := range c.Losses {
				if sl.Step == step {
					out[i] = sl.Loss
				}
			}
		}
	}
	return out
}
