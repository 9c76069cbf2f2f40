package reproduce

import (
	"fmt"
	"time"

	"gonum.org/v1/plot"

	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/plots"
	"github.com/gominitron/gominitron/results"
)

// DepthChoiceRow is one way of choosing the dropped layers, one value per
// seed (the calibration draw changes the LM-loss scores, the seed the data
// order; the next-sentence task is fixed).
type DepthChoiceRow struct {
	Name           string    `json:"name"`
	Dropped        [][]int   `json:"dropped_layers"`
	AccAfterPrune  []float64 `json:"acc_after_prune"`
	AccStderr      []float64 `json:"acc_stderr"` // binomial standard error of each accuracy
	LossAfterPrune []float64 `json:"loss_after_prune"`
	AccAfterKD     []float64 `json:"acc_after_distill,omitempty"`
	LossAfterKD    []float64 `json:"loss_after_distill,omitempty"`
}

// DepthChoiceResult is depth-choice's raw result.
type DepthChoiceResult struct {
	Steps         int                 `json:"steps"`
	Items         int                 `json:"mc_items"`
	TeacherAcc    float64             `json:"teacher_acc"`
	TeacherStderr float64             `json:"teacher_acc_stderr"`
	Rows          []DepthChoiceRow    `json:"rows"`       // block by accuracy, least important layers, block by LM loss (not distilled)
	Importance    *results.Importance `json:"importance"` // first seed's scores with the block sweep (plots)
}

// DepthChoice drops k = numLayers/2 layers two ways — the contiguous block
// whose removal keeps the best next-sentence accuracy (a block sweep), and
// the k individually least important layers by drop-one LM loss — and
// compares accuracy and LM loss right after pruning and after distillation,
// once per seed (P2: 0.595 vs 0.50 Winogrande). The contiguous block with
// the lowest LM loss is reported too (not distilled).
func (e *Env) DepthChoice() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpDepthChoice, "Depth pruning: contiguous block by downstream accuracy vs least important layers",
		"P2: dropping the contiguous block chosen by downstream accuracy (Winogrande 0.595 for 16 of 32 layers of Llama-3.1-8B) beats dropping the 16 individually least important layers (0.50, chance), and the gap survives distillation.")
	if err != nil {
		return nil, err
	}
	cfg := e.Teacher.Config
	n := cfg.NumLayers
	k := max(1, n/2)
	e.logf("depth-choice: block sweep of %d-layer blocks on the next-sentence task", k)
	sweep, err := e.blockSweep(e.Teacher, k)
	if err != nil {
		return nil, err
	}
	res := &DepthChoiceResult{Steps: e.Sizes.Steps}
	if res.TeacherAcc, res.TeacherStderr, err = e.Accuracy(e.Teacher); err != nil {
		return nil, err
	}
	res.Items = len(e.mcDocs)
	variants := []struct {
		name    string
		plan    prune.Plan
		distill bool
	}{
		{"contiguous block, best accuracy", prune.Plan{DropBlock: k, BlockScore: prune.BlockScoreOther}, true},
		{"k least important layers (drop-one LM loss)", prune.DepthPlan(n - k), true},
		{"contiguous block, lowest LM loss", prune.Plan{DropBlock: k, BlockScore: prune.BlockScoreLMLoss}, false},
	}
	for _, v := range variants {
		res.Rows = append(res.Rows, DepthChoiceRow{Name: v.name})
	}
	for _, seed := range r.Seeds {
		ids, err := e.tokens.Calibration("train", e.Sizes.CalibSamples, e.Sizes.CalibSeqLen, seed)
		if err != nil {
			return nil, err
		}
		s, err := importance.EstimateModel(e.Backend, e.Teacher, &importance.Calibration{IDs: ids},
			importance.Options{DropOne: true, BlockSize: k})
		if err != nil {
			return nil, err
		}
		imp := &s.Importance
		imp.BlockScores = sweep
		if res.Importance == nil {
			res.Importance = imp
		}
		for i, v := range variants {
			row := &res.Rows[i]
			student, pr, err := e.Prune(e.Teacher, v.plan, imp)
			if err != nil {
				return nil, err
			}
			drop := pr.Kept.DroppedLayers(n)
			acc, stderr, err := e.Accuracy(student)
			if err != nil {
				return nil, err
			}
			loss, err := e.ValLoss(student)
			if err != nil {
				return nil, err
			}
			row.Dropped = append(row.Dropped, drop)
			row.AccAfterPrune, row.AccStderr = append(row.AccAfterPrune, acc), append(row.AccStderr, stderr)
			row.LossAfterPrune = append(row.LossAfterPrune, loss)
			if v.distill {
				run, trained, err := e.Train(RunSpec{Name: fmt.Sprintf("%s %v%s", v.name, drop, seedTag(seed)), Teacher: e.Teacher, Student: student,
					Steps: e.Sizes.Steps, EvalEvery: e.Sizes.EvalEvery, Seed: seed})
				if err != nil {
					return nil, err
				}
				r.Runs = append(r.Runs, run)
				acc, _, err := e.Accuracy(trained)
				if err != nil {
					return nil, err
				}
				row.AccAfterKD = append(row.AccAfterKD, acc)
				row.LossAfterKD = append(row.LossAfterKD, finalVal(run))
			}
		}
	}
	return judged(r, res, judgeAs(judgeDepthChoice), start)
}

// judgeDepthChoice: reproduced when the accuracy-chosen block has a higher
// next-sentence accuracy than the least important layers both right after
// pruning and after distillation, beyond the seed spread (Higher). A seed
// where both rules drop the same layers counts as disagreeing.
func judgeDepthChoice(r *Report, res *DepthChoiceResult) error {
	if len(res.Rows) < 2 {
		return fmt.Errorf("reproduce: depth-choice result has %d rows, want at least 2", len(res.Rows))
	}
	r.Headers = []string{"dropped layers (per seed)", "chosen by", "acc after pruning", "LM loss after pruning",
		fmt.Sprintf("acc after %d KD steps", res.Steps), fmt.Sprintf("LM loss after %d KD steps", res.Steps)}
	r.Rows = nil
	for _, row := range res.Rows {
		accKD, lossKD := "—", "—"
		if len(row.AccAfterKD) > 0 {
			accKD, lossKD = pm3(row.AccAfterKD), pm(row.LossAfterKD)
		}
		r.Rows = append(r.Rows, []string{fmt.Sprint(row.Dropped), row.Name, pm3(row.AccAfterPrune), pm(row.LossAfterPrune), accKD, lossKD})
	}
	b, l := res.Rows[0], res.Rows[1]
	atPrune := Higher("block", b.AccAfterPrune, "least-important layers", l.AccAfterPrune)
	afterKD := Higher("block", b.AccAfterKD, "least-important layers", l.AccAfterKD)
	r.Reproduced = atPrune.Holds && afterKD.Holds
	r.Verdict = fmt.Sprintf("Next-sentence accuracy (%d items, 4 choices, chance 0.25; teacher %.3f ± %.3f binomial SE) right after pruning: %s; after %d distillation steps: %s.",
		res.Items, res.TeacherAcc, res.TeacherStderr, atPrune, res.Steps, afterKD)
	same := 0
	for i := range min(len(b.Dropped), len(l.Dropped)) {
		if fmt.Sprint(b.Dropped[i]) == fmt.Sprint(l.Dropped[i]) {
			same++
		}
	}
	if same > 0 {
		r.Verdict += fmt.Sprintf(" In %d of %d seeds both rules chose the same layers (no difference there).", same, len(b.Dropped))
	}
	if len(b.AccStderr) > 0 {
		r.Notes = []string{fmt.Sprintf("binomial standard error of one accuracy on %d items: about %.3f (the task is fixed across seeds, so this noise is not in the seed spread)", res.Items, b.AccStderr[0])}
	}
	if imp := res.Importance; imp != nil {
		r.addFigure("block-accuracy", func() (*plot.Plot, error) { return plots.BlockScores(imp) })
		r.addFigure("layer-importance", func() (*plot.Plot, error) { return plots.LayerImportance(imp) })
	}
	r.curvesFigure("curves", "Depth choice: validation LM loss along distillation", nil)
	return nil
}
