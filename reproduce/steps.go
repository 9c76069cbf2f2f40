package reproduce

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/distill"
	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/ops/train"
	"github.com/gominitron/gominitron/results"
)

// scoreOptions selects what an importance pass computes beyond the
// activation scores.
type scoreOptions struct {
	Agg     importance.Aggregation // zero: default (L2, mean)
	DropOne bool                   // drop_one_lm_loss (needed to rank layers)
	Seed    uint64                 // calibration draw (0: Env.Seed)
}

// Scores runs an importance pass of m over the calibration windows of the
// token file's train split (Sizes.CalibSamples × Sizes.CalibSeqLen, seeded
// by Env.Seed).
func (e *Env) Scores(m *llm.Model, agg importance.Aggregation, dropOne bool) (*results.Importance, error) {
	return e.scores(m, scoreOptions{Agg: agg, DropOne: dropOne})
}

func (e *Env) scores(m *llm.Model, o scoreOptions) (*results.Importance, error) {
	seed := o.Seed
	if seed == 0 {
		seed = e.Seed
	}
	ids, err := e.tokens.Calibration(data.Train, e.Sizes.CalibSamples, e.Sizes.CalibSeqLen, seed)
	if err != nil {
		return nil, fmt.Errorf("reproduce: calibration from %s: %w", e.TokenFile, err)
	}
	agg := o.Agg
	if agg.Batch == "" {
		agg = importance.DefaultAggregation()
	}
	s, err := importance.EstimateModel(e.Backend, m, &importance.Calibration{IDs: ids},
		importance.Options{Aggregation: agg, DropOne: o.DropOne, LMLoss: true})
	if err != nil {
		return nil, err
	}
	imp := s.Importance
	if imp.DropOneLMLoss == nil { // results.Importance requires the key; zeros = "not measured"
		imp.DropOneLMLoss = make([]float64, m.Config.NumLayers)
	}
	return &imp, nil
}

// Prune applies plan to m with the scores imp (a new model; m is unchanged).
func (e *Env) Prune(m *llm.Model, plan prune.Plan, imp *results.Importance) (*llm.Model, *prune.Pruned, error) {
	pr, err := prune.Apply(m, plan, imp)
	if err != nil {
		return nil, nil, err
	}
	return pr.Model, pr, nil
}

// ValLoss is the LM loss (nats) of m on the fixed validation batches.
func (e *Env) ValLoss(m *llm.Model) (float64, error) {
	store := model.NewStore()
	if err := m.ToStore(store, distill.StudentScope); err != nil {
		return 0, err
	}
	ev, err := distill.NewLMLossEvaluator(e.Backend, store, m.Config, distill.StudentScope, dtypes.Float32)
	if err != nil {
		return 0, err
	}
	return ev.Loss(e.val)
}

// TeacherValLoss is ValLoss of the teacher (cached).
func (e *Env) TeacherValLoss() (float64, error) {
	if e.teacherLoss == nil {
		v, err := e.ValLoss(e.Teacher)
		if err != nil {
			return 0, err
		}
		e.teacherLoss = &v
	}
	return *e.teacherLoss, nil
}

// RunSpec is one training run of a student.
type RunSpec struct {
	Name      string
	Teacher   *llm.Model // nil: plain LM-loss (CE) training, no teacher
	Student   *llm.Model // float32 weights (pruned or freshly initialized)
	Steps     int
	EvalEvery int     // validation LM loss every N updates (and at 0 and the end)
	PeakLR    float64 // 0: Sizes.PeakLR
	Seed      uint64  // data order (0: Env.Seed)
	// Loss is the distillation objective (nil: distill.DefaultLoss()); with
	// an intermediate-state term the projection is created, initialized
	// from KeptHidden (the student's kept hidden channels, prune.Kept) when
	// set.
	Loss       *distill.Loss
	KeptHidden []int
	// Batches are the training batches (nil: the token file's shuffled
	// train split, seeded by Seed).
	Batches train.Batches
}

// Train distills (or, without a teacher, retrains with the LM loss) the
// student for spec.Steps updates of Sizes.BatchSize × Sizes.SeqLen tokens:
// AdamW, linear warm-up over 10% of the steps, cosine decay to PeakLR/10,
// gradient clipping at 1. The run's rows carry the validation LM loss at step
// 0, every EvalEvery steps and at the end (val_loss), the training loss, and
// in distillation the KL (loss_logits) and CE (loss_ce) of the batch. It
// returns the curve and the trained student.
func (e *Env) Train(spec RunSpec) (results.Run, *llm.Model, error) {
	run := results.Run{Name: spec.Name}
	if spec.Steps <= 0 {
		return run, nil, fmt.Errorf("reproduce: run %q: steps must be > 0", spec.Name)
	}
	scfg := spec.Student.Config
	// The store shares tensors with the models and training replaces the
	// student's: train a copy, so the caller's student stays usable.
	student, err := spec.Student.Clone()
	if err != nil {
		return run, nil, err
	}
	store, err := distill.NewStore(spec.Teacher, student)
	if err != nil {
		return run, nil, err
	}
	var loss train.LossFn
	if spec.Teacher != nil {
		lossOpts := distill.DefaultLoss()
		if spec.Loss != nil {
			lossOpts = *spec.Loss
		}
		if len(lossOpts.Intermediate) > 0 || lossOpts.EmbeddingLoss {
			if err := distill.CreateProjection(store, spec.Teacher.Config.Hidden, scfg.Hidden, spec.KeptHidden, e.Seed); err != nil {
				return run, nil, err
			}
		}
		if loss, err = distill.NewLossFn(spec.Teacher.Config, scfg, lossOpts); err != nil {
			return run, nil, err
		}
	} else {
		loss = train.LMLoss(scfg, distill.StudentScope, dtypes.Float32)
	}
	peak := spec.PeakLR
	if peak == 0 {
		peak = e.Sizes.PeakLR
	}
	sched := train.Schedule{PeakLR: peak, MinLR: peak / 10, WarmupSteps: max(1, spec.Steps/10), TotalSteps: spec.Steps}
	tr, err := train.New(e.Backend, store, loss, train.Config{Schedule: sched, AdamW: train.DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		return run, nil, err
	}
	seed := spec.Seed
	if seed == 0 {
		seed = e.Seed
	}
	batches := spec.Batches
	if batches == nil {
		if batches, err = train.NewTokenBatches(e.tokens, data.BatchOptions{Split: data.Train, BatchSize: e.Sizes.BatchSize,
			SeqLen: e.Sizes.SeqLen, Seed: seed, Shuffle: true, VocabSize: scfg.VocabSize}); err != nil {
			return run, nil, err
		}
	}
	ev, err := distill.NewLMLossEvaluator(e.Backend, store, scfg, distill.StudentScope, dtypes.Float32)
	if err != nil {
		return run, nil, err
	}
	v0, err := ev.Loss(e.val)
	if err != nil {
		return run, nil, err
	}
	run.Steps = append(run.Steps, results.TrainStep{Step: 0, TrainLoss: v0, ValLoss: results.F(v0)})
	start := time.Now()
	for step := 1; step <= spec.Steps; step++ {
		b, err := batches.Next()
		if err != nil {
			return run, nil, err
		}
		res, err := tr.TrainStep([]*tensors.Tensor{b})
		if err != nil {
			return run, nil, fmt.Errorf("reproduce: run %q step %d: %w", spec.Name, step, err)
		}
		row := results.TrainStep{Step: step, Tokens: tr.Tokens(), LR: res.LR, TrainLoss: res.Loss, GradNorm: res.GradNorm,
			ElapsedSec: time.Since(start).Seconds()}
		if v, ok := res.Metrics[distill.MetricLogits]; ok {
			row.LossLogits = results.F(v)
		}
		if v, ok := res.Metrics[distill.MetricCE]; ok {
			row.LossCE = results.F(v)
		}
		if step == spec.Steps || (spec.EvalEvery > 0 && step%spec.EvalEvery == 0) {
			v, err := ev.Loss(e.val)
			if err != nil {
				return run, nil, err
			}
			row.ValLoss = results.F(v)
			e.logf("  %s: step %d/%d val LM loss %.4f (%.0fs)", spec.Name, step, spec.Steps, v, time.Since(start).Seconds())
		}
		if secs := time.Since(start).Seconds(); secs > 0 {
			row.TokensPerSec = float64(tr.Tokens()) / secs
		}
		run.Steps = append(run.Steps, row)
	}
	e.logf("  %s: %d steps in %.0fs, val LM loss %.4f → %.4f", spec.Name, spec.Steps, time.Since(start).Seconds(), v0, finalVal(run))
	trained, err := llm.ModelFromStore(scfg, store, distill.StudentScope)
	if err != nil {
		return run, nil, err
	}
	trained.Source = spec.Student.Source
	return run, trained, nil
}

// finalVal is the last validation loss of a run.
func finalVal(r results.Run) float64 {
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if v := r.Steps[i].ValLoss; v != nil {
			return *v
		}
	}
	return 0
}

// firstVal is the step-0 validation loss of a run.
func firstVal(r results.Run) float64 {
	if len(r.Steps) > 0 && r.Steps[0].ValLoss != nil {
		return *r.Steps[0].ValLoss
	}
	return 0
}

// mcTask returns the next-sentence multiple-choice task built from the
// held-out documents (Sizes.MCItems items, seeded by Env.Seed).
func (e *Env) mcTask() ([]evaluate.Doc, *evaluate.Encoder, error) {
	if e.mcDocs == nil {
		items, err := evaluate.BuildNextSentenceTask(e.valDocs, evaluate.NextSentenceOptions{N: e.Sizes.MCItems, Seed: e.Seed,
			PassageSentences: 2})
		if err != nil {
			return nil, nil, fmt.Errorf("reproduce: next-sentence task from %d held-out documents of %s: %w", len(e.valDocs), e.Corpus, err)
		}
		for _, it := range items {
			e.mcDocs = append(e.mcDocs, evaluate.Doc{Text: it.Context, Choices: it.Choices, Gold: it.Label})
		}
		if e.encoder, err = evaluate.NewHarnessEncoder(e.Tokenizer, false); err != nil {
			return nil, nil, err
		}
	}
	return e.mcDocs, e.encoder, nil
}

// mcBatch is the evaluation batch of the multiple-choice scorer.
const mcBatch = 16

// Accuracy is the next-sentence task accuracy of m (acc and the standard
// error).
func (e *Env) Accuracy(m *llm.Model) (acc, stderr float64, err error) {
	docs, enc, err := e.mcTask()
	if err != nil {
		return 0, 0, err
	}
	p, err := evaluate.NewModelLogProber(e.Backend, m, evaluate.ModelOptions{BatchSize: mcBatch})
	if err != nil {
		return 0, 0, err
	}
	defer p.Close()
	r, err := evaluate.MultipleChoice(&evaluate.SeqScorer{Model: p}, enc, docs, evaluate.MCOptions{})
	if err != nil {
		return 0, 0, err
	}
	return r.Acc, r.Stderr, nil
}

// blockSweep scores every contiguous block of k layers of m by the
// next-sentence accuracy without it.
func (e *Env) blockSweep(m *llm.Model, k int) (*results.BlockScores, error) {
	docs, enc, err := e.mcTask()
	if err != nil {
		return nil, err
	}
	return evaluate.BlockSweepMC(e.Backend, m, enc, docs, evaluate.BlockSweepOptions{BlockSize: k, Task: "next-sentence, held-out " + filepath.Base(e.Corpus),
		Model: evaluate.ModelOptions{BatchSize: mcBatch},
		Progress: func(start int, score float64) {
			if start >= 0 {
				e.logf("  block %d..%d removed: acc %.3f", start, start+k-1, score)
			}
		}})
}

func defaultAgg() importance.Aggregation { return importance.DefaultAggregation() }

// trainInto trains spec (Train), keeps the run in r and returns its
// validation loss at step 0 (right after pruning) and at the end.
func (e *Env) trainInto(r *Report, spec RunSpec) (atStep0, final float64, err error) {
	run, _, err := e.Train(spec)
	if err != nil {
		return 0, 0, err
	}
	r.Runs = append(r.Runs, run)
	return firstVal(run), finalVal(run), nil
}
