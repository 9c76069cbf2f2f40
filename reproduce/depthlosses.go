package reproduce

import (
	"fmt"
	"time"

	"github.com/gominitron/gominitron/ops/distill"
	"github.com/gominitron/gominitron/ops/prune"
)

// DepthLossesResult is the depth-losses experiment's raw numbers.
type DepthLossesResult struct {
	Steps    int                `json:"steps"`
	Students []DepthLossStudent `json:"students"` // depth, width
}

// DepthLossStudent is one pruned student distilled with both losses, one
// value per seed (data order).
type DepthLossStudent struct {
	Name        string    `json:"name"` // depth | width
	Shape       string    `json:"shape"`
	LayerMap    string    `json:"layer_map"`  // intermediate pairs "s:t" of the combined loss
	LossAtStep0 []float64 `json:"loss_step0"` // right after pruning
	Logits      []float64 `json:"logits_final_loss"`
	Combined    []float64 `json:"combined_final_loss"`
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
	res := &DepthLossesResult{Steps: e.Sizes.Steps}
	for _, c := range []struct {
		name string
		plan prune.Plan
	}{{"depth", depthPlan}, {"width", widthPlan}} {
		student, pr, err := e.Prune(e.Teacher, c.plan, imp)
		if err != nil {
			return nil, err
		}
		shape := prune.ShapeOf(student.Config)
		pairs := distill.DefaultLayerMap(student.Config.NumLayers, tcfg.NumLayers)
		sr := DepthLossStudent{Name: c.name, Shape: shape.String(), LayerMap: distill.FormatLayerMap(pairs)}
		var kept []int
		if pr.Kept != nil {
			kept = pr.Kept.Hidden
		}
		logits := distill.DefaultLoss()
		combined := distill.DefaultLoss()
		combined.Intermediate, combined.EmbeddingLoss, combined.ISLoss = pairs, true, distill.ISCosine
		for _, arm := range []struct {
			name  string
			loss  *distill.Loss
			final *[]float64
		}{{lossLogits, &logits, &sr.Logits}, {lossCombined, &combined, &sr.Combined}} {
			for _, seed := range r.Seeds {
				run, _, err := e.Train(RunSpec{Name: fmt.Sprintf("%s (%s), %s%s", c.name, shape, arm.name, seedTag(seed)), Teacher: e.Teacher, Student: student,
					Steps: e.Sizes.Steps, EvalEvery: e.Sizes.EvalEvery, Seed: seed, Loss: arm.loss, KeptHidden: kept})
				if err != nil {
					return nil, err
				}
				r.Runs = append(r.Runs, run)
				*arm.final = append(*arm.final, finalVal(run))
				if arm.final == &sr.Logits {
					sr.LossAtStep0 = append(sr.LossAtStep0, firstVal(run))
				}
			}
		}
		res.Students = append(res.Students, sr)
	}
	return judged(r, res, judgeAs(judgeDepthLosses), start)
}

// judgeDepthLosses: reproduced when the combined loss ends lower than the
// logit-only loss for the depth-halved student AND not for the width-pruned
// one, each by the verdict rule paired by data-order seed (Lower).
func judgeDepthLosses(r *Report, res *DepthLossesResult) error {
	if len(res.Students) != 2 || res.Students[0].Name != "depth" || res.Students[1].Name != "width" {
		return fmt.Errorf("reproduce: depth-losses result has %d students, want depth and width", len(res.Students))
	}
	r.Headers = []string{"student", "loss", "intermediate pairs", "LM loss after pruning", fmt.Sprintf("LM loss after %d KD steps", res.Steps)}
	r.Rows = nil
	var cmp []Comparison
	for _, s := range res.Students {
		student := fmt.Sprintf("%s (%s)", s.Name, s.Shape)
		r.Rows = append(r.Rows,
			[]string{student, lossLogits, "—", pm(s.LossAtStep0), pm(s.Logits)},
			[]string{student, lossCombined, s.LayerMap + " + embeddings", pm(s.LossAtStep0), pm(s.Combined)})
		cmp = append(cmp, Lower(s.Name+" combined", s.Combined, s.Name+" logits-only", s.Logits))
	}
	r.Reproduced = cmp[0].Holds && !cmp[1].Holds
	r.Verdict = fmt.Sprintf("Validation LM loss after %d distillation steps. Depth-halved student: %s. Width-pruned student: %s. Claim: combined < logits-only for the depth student and not for the width student.",
		res.Steps, cmp[0], cmp[1])
	if cmp[1].N < MinSeeds {
		r.Verdict += fmt.Sprintf(" (With fewer than %d seeds nothing holds, so the width half is vacuous.)", MinSeeds)
	}
	r.Notes = []string{"intermediate pairs are distill.DefaultLayerMap (P1's last−2 : last−2, at the same depth fraction for a shallower student); the projection starts as the selection of the student's kept hidden channels; α = L_logits / L_is each step"}
	r.curvesFigure("curves", "Depth vs width students: logit-only vs combined distillation loss", nil)
	return nil
}
