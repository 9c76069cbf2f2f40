package reproduce

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/ops/train"
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
	Corpus          string          `json:"corpus"`         // the distillation text (new to the teacher)
	TeacherCorpus   string          `json:"teacher_corpus"` // the teacher's own corpus (its validation split)
	CorrectionLR    float64         `json:"correction_lr"`  // peak LR of the teacher's fine-tuning
	CorrectionSteps int             `json:"correction_steps"`
	Steps           int             `json:"steps"` // distillation steps per student
	Arms            []CorrectionArm `json:"arms"`  // original teacher, corrected teacher
}

// CorrectionArm is one teacher and the student distilled from it, one value
// per seed (data order).
type CorrectionArm struct {
	Teacher         string    `json:"teacher"`
	TeacherLoss     float64   `json:"teacher_loss"`          // LM loss on the new text's validation split
	TeacherLossOrig float64   `json:"teacher_loss_original"` // LM loss on the teacher corpus' validation split
	Student         string    `json:"student_shape"`
	LossAtStep0     []float64 `json:"student_loss_step0"` // the pruned student before distillation
	Final           []float64 `json:"final_loss"`         // after Steps distillation steps
}

// Correction arms.
const (
	teacherOriginal  = "original teacher"
	teacherCorrected = "corrected teacher"
)

// nlpCorpus is the nlp corpus, fetched when missing ("" when unavailable).
func (e *Env) nlpCorpus() string {
	p, err := e.corpusPath(filepath.Join("nlp", "nlp.jsonl"), data.FetchNLP)
	if err != nil {
		e.note("note: fetching the nlp corpus failed (%v)", err)
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
	res := &CorrectionResult{Corpus: corpus, TeacherCorpus: e.Corpus, CorrectionLR: peak * train.CorrectionLRFactor,
		CorrectionSteps: e.Sizes.Steps, Steps: e.Sizes.Steps}
	seeds := r.Seeds
	correction, corrected, err := sub.Train(RunSpec{Name: "teacher correction (LM loss on the new text)" + seedTag(seeds[0]), Student: sub.Teacher,
		Steps: res.CorrectionSteps, EvalEvery: e.Sizes.EvalEvery, PeakLR: res.CorrectionLR, Seed: seeds[0]})
	if err != nil {
		return nil, err
	}
	r.Runs = append(r.Runs, correction)
	_, widthPlan, _, _, err := sub.pairPlans()
	if err != nil {
		return nil, err
	}
	for _, t := range []struct {
		name  string
		model *llm.Model
	}{{teacherOriginal, sub.Teacher}, {teacherCorrected, corrected}} {
		arm := CorrectionArm{Teacher: t.name}
		if arm.TeacherLoss, err = sub.ValLoss(t.model); err != nil {
			return nil, err
		}
		if arm.TeacherLossOrig, err = e.ValLoss(t.model); err != nil {
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
		arm.Student = prune.ShapeOf(student.Config).String()
		for _, seed := range seeds {
			atStep0, final, err := sub.trainInto(r, RunSpec{Name: "student of the " + t.name + seedTag(seed), Teacher: t.model, Student: student, Steps: e.Sizes.Steps,
				EvalEvery: e.Sizes.EvalEvery, Seed: seed})
			if err != nil {
				return nil, err
			}
			arm.LossAtStep0 = append(arm.LossAtStep0, atStep0)
			arm.Final = append(arm.Final, final)
		}
		res.Arms = append(res.Arms, arm)
	}
	return judged(r, res, judgeAs(judgeCorrection), start)
}

// judgeCorrection: reproduced when the student of the corrected teacher has
// a lower validation LM loss on the new text than the student of the
// original teacher after the same distillation steps, by the verdict rule
// paired by data-order seed (Lower).
func judgeCorrection(r *Report, res *CorrectionResult) error {
	if len(res.Arms) != 2 || res.Arms[0].Teacher != teacherOriginal || res.Arms[1].Teacher != teacherCorrected {
		return fmt.Errorf("reproduce: teacher-correction result has %d arms, want the %s and the %s", len(res.Arms), teacherOriginal, teacherCorrected)
	}
	orig, corr := res.Arms[0], res.Arms[1]
	corpusName := filepath.Base(res.Corpus)
	r.Headers = []string{"teacher", "teacher LM loss on " + corpusName, "teacher LM loss on " + filepath.Base(res.TeacherCorpus), "student",
		"student LM loss after pruning", fmt.Sprintf("student LM loss after %d KD steps", res.Steps)}
	r.Rows = nil
	for _, a := range res.Arms {
		r.Rows = append(r.Rows, []string{a.Teacher, f4(a.TeacherLoss), f4(a.TeacherLossOrig), a.Student, pm(a.LossAtStep0), pm(a.Final)})
	}
	c := Lower("corrected", corr.Final, "original", orig.Final)
	r.Reproduced = c.Holds
	r.Verdict = fmt.Sprintf("Student LM loss on %s's validation split after %d distillation steps, student of the corrected vs the original teacher: %s. The teacher's own loss on the new text went %.4f → %.4f after %d correction steps at peak LR %.1e.",
		corpusName, res.Steps, c, orig.TeacherLoss, corr.TeacherLoss, res.CorrectionSteps, res.CorrectionLR)
	r.Notes = []string{"each teacher is pruned with its own importance scores on the new text (P2's order: correct, then prune and distill); the correction uses the first seed's data order; the seeds are the students' data orders"}
	if res.Corpus == res.TeacherCorpus {
		r.Notes = append(r.Notes, fmt.Sprintf("the nlp corpus was unavailable: distilled on %s, which the teacher has seen (numbers mean nothing beyond a smoke run)", res.Corpus))
	}
	r.curvesFigure("curves", "Teacher correction: validation LM loss on the new text", nil)
	return nil
}
