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

// SearchPlan is an enumerated shape.
type SearchPlan struct {
	Name   string     `json:"name"`
	Plan   prune.Plan `json:"plan"`
	Params int64      `json:"params"`
}

// EnumerateShapes lists the plans (layers, heads per group, hidden, FFN;
// layers chosen by drop-one LM loss) whose parameter count is within
// ±tol·params, on a grid of 1/16 of the hidden size and 1/32 of the FFN size,
// with at least half the layers.
func EnumerateShapes(cfg *llm.Config, params int64, tol float64) ([]SearchPlan, error) {
	hs, fs := widthSteps(cfg)
	perGroup := cfg.NumHeads / cfg.NumKVHeads
	var out []SearchPlan
	for layers := cfg.NumLayers; layers >= max(1, cfg.NumLayers/2); layers-- {
		for hpg := perGroup; hpg >= 1; hpg-- {
			for h := cfg.Hidden; h >= hs; h -= hs {
				for f := cfg.FFN; f >= fs; f -= fs {
					p := prune.Plan{Hidden: h, FFN: f, HeadsPerGroup: hpg}
					if layers < cfg.NumLayers {
						p.Layers, p.LayerScore = layers, prune.LayerScoreDropOneLMLoss
					}
					n, err := planParams(cfg, p)
					if err != nil {
						return nil, err
					}
					if relErr(n, params) <= tol {
						out = append(out, SearchPlan{Name: fmt.Sprintf("L%d q%d h%d f%d", layers, hpg*cfg.NumKVHeads, h, f), Plan: p, Params: n})
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reproduce: no shape of %s within ±%.0f%% of %d parameters", shapeString(cfg), 100*tol, params)
	}
	return out, nil
}

// spread picks n plans spread over the enumeration: for each (layers, heads)
// pair present, the plan with the most balanced hidden/FFN cut, then evenly
// spaced ones among those pairs.
func spread(cfg *llm.Config, all []SearchPlan, n int) []SearchPlan {
	type key struct{ layers, hpg int }
	best := map[key]SearchPlan{}
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
		out := make([]SearchPlan, 0, len(keys))
		for _, k := range keys {
			out = append(out, best[k])
		}
		return out
	}
	out := make([]SearchPlan, 0, n)
	for i := range n {
		j := int(math.Round(float64(i) * float64(len(keys)-1) / float64(max(1, n-1))))
		out = append(out, best[keys[j]])
	}
	return out
}

// SearchResult is the architecture search's outcome.
type SearchResult struct {
	Budget     int64               `json:"budget"`
	Tolerance  float64             `json:"tolerance"`
	Enumerated int                 `json:"enumerated"` // shapes within the budget
	Candidates []results.Candidate `json:"candidates"`
	Best       string              `json:"best"`
	// Ranking agreement of each checkpoint step with the final ranking.
	Agreement []RankAgreement `json:"agreement"`
}

// RankAgreement compares the ranking at a step with the final ranking.
type RankAgreement struct {
	Step     int     `json:"step"`
	Spearman float64 `json:"spearman"`
	Kendall  float64 `json:"kendall"`
	Best     string  `json:"best"` // lowest loss at this step
}

// Search enumerates shapes within ±tolerance of the budget, distills a spread
// of them for the same steps, picks the lowest validation LM loss and
// reports how the ranking at each checkpoint step agrees with the final one
// (P1: rankings settle after ~300 steps).
func (e *Env) Search(o SearchOptions) (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpSearch, "Architecture search",
		"P1 §4 (Fig. 9): enumerate shapes within ±5% of the budget, distill each briefly (~400 steps), keep the best; the ranking of candidates settles after ~300 steps.")
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
	imp := o.Importance
	if imp == nil {
		if imp, err = e.Scores(e.Teacher, importance.DefaultAggregation(), true); err != nil {
			return nil, err
		}
	}
	all, err := EnumerateShapes(cfg, o.Params, o.Tolerance)
	if err != nil {
		return nil, err
	}
	picked := spread(cfg, all, o.Candidates)
	e.logf("search: %d shapes within ±%.0f%% of %d params; distilling %d for %d steps", len(all), 100*o.Tolerance, o.Params, len(picked), o.Steps)
	res := &SearchResult{Budget: o.Params, Tolerance: o.Tolerance, Enumerated: len(all)}
	var runs []results.Run
	for _, sp := range picked {
		student, _, err := e.Prune(e.Teacher, sp.Plan, imp)
		if err != nil {
			return nil, fmt.Errorf("reproduce: candidate %s: %w", sp.Name, err)
		}
		run, _, err := e.Train(RunSpec{Name: sp.Name, Teacher: e.Teacher, Student: student, Steps: o.Steps, EvalEvery: o.EvalEvery})
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
		c := results.Candidate{Name: sp.Name, Shape: prune.ShapeOf(student.Config), Params: sp.Params}
		for _, st := range run.Steps {
			if st.ValLoss != nil {
				c.Losses = append(c.Losses, results.StepLoss{Step: st.Step, Loss: *st.ValLoss})
			}
		}
		res.Candidates = append(res.Candidates, c)
	}
	final := lossesAt(res.Candidates, -1)
	res.Best = res.Candidates[argmin(final)].Name
	for _, sl := range res.Candidates[0].Losses {
		at := lossesAt(res.Candidates, sl.Step)
		ag := RankAgreement{Step: sl.Step, Best: res.Candidates[argmin(at)].Name}
		if len(at) >= 2 {
			ag.Spearman, _ = importance.Spearman(at, final)
			ag.Kendall = KendallTau(at, final)
		}
		res.Agreement = append(res.Agreement, ag)
	}
	r.Headers = []string{"candidate", "shape", "params", "LM loss after pruning", fmt.Sprintf("LM loss after %d steps", o.Steps), "rank"}
	order := make([]int, len(final))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return final[order[a]] < final[order[b]] })
	for k, i := range order {
		c := res.Candidates[i]
		r.Rows = append(r.Rows, []string{c.Name, c.Shape.String(), plotsSI(c.Params), f4(c.Losses[0].Loss), f4(final[i]), fmt.Sprint(k + 1)})
	}
	// Settling step: the first checkpoint from which the best candidate stays
	// the final best and Kendall's τ stays ≥ 0.8.
	settle := -1
	for i := len(res.Agreement) - 1; i >= 0; i-- {
		a := res.Agreement[i]
		if a.Best != res.Best || a.Kendall < 0.8 {
			break
		}
		settle = a.Step
	}
	r.Reproduced = settle >= 0 && settle < o.Steps
	r.Verdict = fmt.Sprintf("%d shapes within ±%.0f%% of %s params; %d distilled for %d steps; best %s (%.4f). ",
		len(all), 100*o.Tolerance, plotsSI(o.Params), len(picked), o.Steps, res.Best, final[order[0]])
	if settle >= 0 {
		r.Verdict += fmt.Sprintf("The ranking settles (same best, Kendall τ ≥ 0.8 with the final ranking from then on) at step %d of %d.", settle, o.Steps)
	} else {
		r.Verdict += "The ranking does not settle before the last step."
	}
	r.Verdict += " Kendall τ by step: " + agreementString(res.Agreement) + "."
	r.Notes = append(r.Notes, "ranking agreement table: result.json details.agreement")
	r.Runs, r.Details = runs, res
	r.curvesFigure("curves", "Architecture search: validation LM loss per candidate", runs)
	r.addFigure("params-vs-loss", func() (*plot.Plot, error) { return plots.ParamsVsLoss(res.Candidates) })
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}

func agreementString(ag []RankAgreement) string {
	s := ""
	for i, a := range ag {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d: %.2f", a.Step, a.Kendall)
	}
	return s
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

func argmin(v []float64) int {
	best := 0
	for i, x := range v {
		if x < v[best] {
			best = i
		}
	}
	return best
}

// KendallTau is Kendall's τ-b between two score vectors (ties counted as
// neither concordant nor discordant).
func KendallTau(a, b []float64) float64 {
	var conc, disc, tieA, tieB float64
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			da, db := a[i]-a[j], b[i]-b[j]
			switch {
			case da == 0 && db == 0:
			case da == 0:
				tieA++
			case db == 0:
				tieB++
			case (da > 0) == (db > 0):
				conc++
			default:
				disc++
			}
		}
	}
	den := math.Sqrt((conc + disc + tieA) * (conc + disc + tieB))
	if den == 0 {
		return 0
	}
	return (conc - disc) / den
}
