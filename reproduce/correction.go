package reproduce

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/ops/train"
	"github.com/gominitron/gominitron/results"
)

// CorrectionOptions configures the teacher-correction experiment.
type CorrectionOptions struct {
	// Corpus is the distillation text the teacher has not seen (default the
	// nlp corpus, <data>/nlp/nlp.jsonl, fetched when missing; at smoke scale
	// without it, the package's small test corpus).
	Corpus string
	// TeacherPeakLR is the teacher's pre-training peak LR; the correction
	// runs at train.CorrectionLRFactor × it (default DemoTeacherPeakLR).
	TeacherPeakLR float64
}

// DemoTeacherPeakLR is the peak LR models/demo-teacher was trained with
// (recipes/teacher-cpu.json).
const DemoTeacherPeakLR = 2e-3

// CorrectionResult is the teacher-correction experiment's numbers.
type CorrectionResult struct {
	Corpus             string               `json:"corpus"`
	CorrectionLR       float64              `json:"correction_lr"`
	CorrectionSteps    int                  `json:"correction_steps"`
	TeacherLoss        map[string]float64   `json:"teacher_loss"`       // teacher → LM loss on the new text's validation split
	TeacherLossOrig    map[string]float64   `json:"teacher_loss_brown"` // teacher → LM loss on the original corpus' validation split
	Student            map[string]string    `json:"student_shape"`      // teacher → student shape
	StudentLossAtStep0 map[string]float64   `json:"student_loss_step0"` // teacher → pruned student's loss before distillation
	Final              map[string][]float64 `json:"final_loss"`         // teacher → student's final loss per seed
}

// Correction arms.
const (
	teacherOriginal  = "original teacher"
	teacherCorrected = "corrected teacher"
)

// nlpCorpus is the nlp corpus, fetched when missing ("" when unavailable).
func (e *Env) nlpCorpus() string {
	dataDir := os.Getenv("GOMINITRON_DATA")
	if dataDir == "" {
		dataDir = filepath.Join(e.Root, "data")
	}
	p := filepath.Join(dataDir, "nlp", "nlp.jsonl")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if e.Scale == "smoke" {
		return ""
	}
	m, err := data.FetchNLP(data.FetchOptions{Dir: dataDir, Log: e.Log})
	if err != nil {
		e.note("note: fetching the nlp corpus failed (%v)", err)
		return ""
	}
	if p = m.Path(); !filepath.IsAbs(p) {
		p = filepath.Join(m.Dir, filepath.Base(p))
	}
	return p
}

// TeacherCorrection distills on a corpus the teacher never saw (the nlp
// corpus) from (a) the original teacher and (b) the teacher after a short
// LM-loss fine-tuning on that corpus (teacher correction, P2 §3: LR 1/5 of
// pre-training peak). As in P2, each teacher is pruned (width plan of the
// width-vs-depth pair, importance from its own calibration pass on the new
// text) and distills its own student; the students are compared by their
// validation LM loss on the new corpus, over Sizes.Seeds data orders.
func (e *Env) TeacherCorrection(o CorrectionOptions) (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpCorrection, "Teacher correction on a dataset the teacher did not see",
		"P2 §3 / Fig. 3 and the Minitron blog: when the distillation data differs from the teacher's pre-training data, fine-tuning the teacher on it first (teacher correction, ~100B tokens at 1/5 of the peak LR) gives the student a lower LM loss; the uncorrected teacher gives suboptimal guidance.")
	if err != nil {
		return nil, err
	}
	corpus := o.Corpus
	if corpus == "" {
		if corpus = e.nlpCorpus(); corpus == "" {
			corpus = e.Corpus
			r.Notes = append(r.Notes, fmt.Sprintf("the nlp corpus is unavailable: distilling on %s, which the teacher may have seen (numbers mean nothing beyond a smoke run)", corpus))
		}
	}
	peak := o.TeacherPeakLR
	if peak == 0 {
		peak = DemoTeacherPeakLR
	}
	sizes := e.Sizes
	sub, err := Open(Options{Root: e.Root, Teacher: e.TeacherDir, Corpus: corpus, Out: e.Out, Scale: e.Scale, Sizes: &sizes,
		Seed: e.Seed, Log: e.Log, Backend: e.Backend})
	if err != nil {
		return nil, fmt.Errorf("reproduce: opening the distillation corpus %s: %w", corpus, err)
	}
	defer sub.Close()
	res := &CorrectionResult{Corpus: corpus, CorrectionLR: peak * train.CorrectionLRFactor, CorrectionSteps: e.Sizes.Steps,
		TeacherLoss: map[string]float64{}, TeacherLossOrig: map[string]float64{}, Student: map[string]string{},
		StudentLossAtStep0: map[string]float64{}, Final: map[string][]float64{}}
	var runs []results.Run
	correction, corrected, err := sub.Train(RunSpec{Name: "teacher correction (LM loss on the new text)", Student: sub.Teacher,
		Steps: res.CorrectionSteps, EvalEvery: e.Sizes.EvalEvery, PeakLR: res.CorrectionLR})
	if err != nil {
		return nil, err
	}
	runs = append(runs, correction)
	_, widthPlan, _, _, err := sub.pairPlans()
	if err != nil {
		return nil, err
	}
	for _, t := range []struct {
		name  string
		model *llm.Model
	}{{teacherOriginal, sub.Teacher}, {teacherCorrected, corrected}} {
		if res.TeacherLoss[t.name], err = sub.ValLoss(t.model); err != nil {
			return nil, err
		}
		if res.TeacherLossOrig[t.name], err = e.ValLoss(t.model); err != nil {
			return nil, err
		}
		imp, err := sub.Scores(t.model, defaultAgg(), false)
		if err != nil {
			return nil, err
		}
		student, _, err := sub.Prune(t.model, widthPlan, imp)
		if err != nil {
			return nil, err
		}
		res.Student[t.name] = prune.ShapeOf(student.Config).String()
		for i, seed := range e.seeds() {
			run, _, err := sub.Train(RunSpec{Name: "student of the " + t.name, Teacher: t.model, Student: student, Steps: e.Sizes.Steps,
				EvalEvery: e.Sizes.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			if i == 0 {
				runs = append(runs, run)
				res.StudentLossAtStep0[t.name] = firstVal(run)
			}
			res.Final[t.name] = append(res.Final[t.name], finalVal(run))
		}
	}
	corpusName := filepath.Base(corpus)
	r.Headers = []string{"teacher", "teacher LM loss on " + corpusName, "teacher LM loss on " + filepath.Base(e.Corpus), "student",
		"student LM loss after pruning", fmt.Sprintf("student LM loss after %d KD steps", e.Sizes.Steps)}
	for _, n := range []string{teacherOriginal, teacherCorrected} {
		r.Rows = append(r.Rows, []string{n, f4(res.TeacherLoss[n]), f4(res.TeacherLossOrig[n]), res.Student[n], f4(res.StudentLossAtStep0[n]), pm(res.Final[n])})
	}
	orig, corr := res.Final[teacherOriginal], res.Final[teacherCorrected]
	r.Reproduced = LowerBeyondSpread(corr, orig)
	r.Verdict = fmt.Sprintf("Student LM loss on %s after %d distillation steps over %d seeds: from the corrected teacher %s, from the original %s — correction %s beyond the seed spread (the teacher's own loss on the new text %.4f → %.4f after %d correction steps at LR %.1e).",
		corpusName, e.Sizes.Steps, len(orig), pm(corr), pm(orig), lower(r.Reproduced, "helps", "does not help"),
		res.TeacherLoss[teacherOriginal], res.TeacherLoss[teacherCorrected], res.CorrectionSteps, res.CorrectionLR)
	r.Notes = append(r.Notes, "each teacher is pruned with its own importance scores (P2's order: correct, then prune and distill); the correction uses the first seed's data order")
	r.Runs, r.Details = runs, res
	r.curvesFigure("curves", "Teacher correction: validation LM loss on the new text", runs)
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}
