package reproduce

import (
	"fmt"
	"time"

	"github.com/gominitron/gominitron/ops/distill"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/results"
)

// DepthLossesResult is the depth-losses experiment's final losses.
type DepthLossesResult struct {
	Students map[string]string    `json:"students"`   // depth / width → shape
	Layers   map[string]string    `json:"layer_map"`  // depth / width → intermediate pairs "s:t"
	Final    map[string][]float64 `json:"final_loss"` // "<student> <loss>" → per seed
}

// Loss arms of DepthLosses.
const (
	lossLogits   = "logits only"
	lossCombined = "logits + intermediate + embedding"
)

// DepthLosses distills a depth-pruned student (half the layers) and the
// equal-parameter width-pruned student (the width-vs-depth pair) each with
// logit-only KD and with logit + intermediate-state + embedding-output
// distillation (distill.Loss: forward KL on the logits, cosine loss on the
// RMS-normalized states of distill.DefaultLayerMap and of the embeddings
// through a learned projection, dynamic α), over Sizes.Seeds data orders.
func (e *Env) DepthLosses() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpDepthLosses, "Distillation losses when depth is cut a lot",
		"P2 §3 and the Minitron blog: when depth is reduced significantly, distill with the logit loss plus intermediate-state and embedding-output losses; when it is not (width pruning), use the logit loss only.")
	if err != nil {
		return nil, err
	}
	depthPlan, widthPlan, _, _, err := e.pairPlans()
	if err != nil {
		return nil, err
	}
	imp, err := e.Scores(e.Teacher, defaultAgg(), true)
	if err != nil {
		return nil, err
	}
	tcfg := e.Teacher.Config
	res := &DepthLossesResult{Students: map[string]string{}, Layers: map[string]string{}, Final: map[string][]float64{}}
	var runs []results.Run
	var names []string
	for _, c := range []struct {
		name string
		plan prune.Plan
	}{{"depth", depthPlan}, {"width", widthPlan}} {
		student, pr, err := e.Prune(e.Teacher, c.plan, imp)
		if err != nil {
			return nil, err
		}
		shape := prune.ShapeOf(student.Config)
		res.Students[c.name] = shape.String()
		pairs := distill.DefaultLayerMap(student.Config.NumLayers, tcfg.NumLayers)
		res.Layers[c.name] = distill.FormatLayerMap(pairs)
		var kept []int
		if pr.Kept != nil {
			kept = pr.Kept.Hidden
		}
		logits := distill.DefaultLoss()
		combined := distill.DefaultLoss()
		combined.Intermediate, combined.EmbeddingLoss, combined.ISLoss = pairs, true, distill.ISCosine
		for _, arm := range []struct {
			name string
			loss *distill.Loss
		}{{lossLogits, &logits}, {lossCombined, &combined}} {
			key := c.name + " " + arm.name
			for i, seed := range e.seeds() {
				run, _, err := e.Train(RunSpec{Name: fmt.Sprintf("%s (%s), %s", c.name, shape, arm.name), Teacher: e.Teacher, Student: student,
					Steps: e.Sizes.Steps, EvalEvery: e.Sizes.EvalEvery, Seed: seed, Loss: arm.loss, KeptHidden: kept})
				if err != nil {
					return nil, err
				}
				if i == 0 {
					runs = append(runs, run)
				}
				res.Final[key] = append(res.Final[key], finalVal(run))
			}
			names = append(names, key)
		}
	}
	r.Headers = []string{"student", "loss", "intermediate pairs", fmt.Sprintf("LM loss after %d KD steps", e.Sizes.Steps)}
	for i, key := range names {
		student := "depth"
		if i >= 2 {
			student = "width"
		}
		pairs := "—"
		if i%2 == 1 {
			pairs = res.Layers[student] + " + embeddings"
		}
		r.Rows = append(r.Rows, []string{fmt.Sprintf("%s (%s)", student, res.Students[student]), key[len(student)+1:], pairs, pm(res.Final[key])})
	}
	dl, dc := res.Final["depth "+lossLogits], res.Final["depth "+lossCombined]
	wl, wc := res.Final["width "+lossLogits], res.Final["width "+lossCombined]
	depthHelps := LowerBeyondSpread(dc, dl)
	widthHelps := LowerBeyondSpread(wc, wl)
	r.Reproduced = depthHelps && !widthHelps
	r.Verdict = fmt.Sprintf("After %d steps over %d seeds: depth student %s (combined) vs %s (logits only), width student %s (combined) vs %s (logits only); the combined loss %s for the depth-pruned student and %s for the width-pruned one beyond the seed spread.",
		e.Sizes.Steps, len(dl), pm(dc), pm(dl), pm(wc), pm(wl), lower(depthHelps, "helps", "does not help"), lower(widthHelps, "helps", "does not help"))
	r.Notes = append(r.Notes, "intermediate pairs are distill.DefaultLayerMap (P1's last−2 : last−2, at the same depth fraction for a shallower student); the projection starts as the selection of the student's kept hidden channels; α = L_logits / L_is each step")
	r.Runs, r.Details = runs, res
	r.curvesFigure("curves", "Depth vs width students: logit-only vs combined distillation loss", runs)
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}
