package distill

import (
	"fmt"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

// Plan is what a distillation run will do, with its time estimated from two
// measured training steps (Session.DryRun).
type Plan struct {
	Steps         int   `json:"steps"`
	TokensPerStep int64 `json:"tokens_per_step"` // BatchSize × (SeqLen+1) × Accum
	// Memory is the estimate CheckMemory prints (llm.DistillBytes).
	Memory *llm.DistillMemory `json:"memory,omitempty"`
	// FirstStepSeconds includes compiling the step; StepSeconds is the
	// second step alone, the steady rate; EstimatedSeconds = FirstStepSeconds
	// + (Steps−1) × StepSeconds (validation passes not included).
	FirstStepSeconds float64 `json:"first_step_seconds"`
	StepSeconds      float64 `json:"step_seconds"`
	EstimatedSeconds float64 `json:"estimated_seconds"`
}

// DryRun plans the run without writing anything: it times two training
// steps on the session's first batches (so the session's weights and
// optimizer state have moved two steps: build a new session for the real
// run) and returns the plan.
func (s *Session) DryRun() (*Plan, error) {
	o := s.Options
	p := &Plan{Steps: o.Steps, TokensPerStep: int64(o.BatchSize) * int64(o.SeqLen+1) * int64(o.Accum)}
	m := llm.DistillBytes(s.tcfg, s.scfg, o.DType, o.DType, o.BatchSize, o.SeqLen, o.Loss.ChunkSize)
	p.Memory = &m
	var times [2]float64
	for i := range times {
		micro := make([]*tensors.Tensor, o.Accum)
		for j := range micro {
			b, err := s.Batches.Next()
			if err != nil {
				return nil, fmt.Errorf("distill: dry run: %w", err)
			}
			micro[j] = b
		}
		started := time.Now()
		if _, err := s.Trainer.TrainStep(micro); err != nil {
			return nil, fmt.Errorf("distill: dry run step %d: %w", i+1, err)
		}
		times[i] = time.Since(started).Seconds()
	}
	p.FirstStepSeconds, p.StepSeconds = times[0], times[1]
	p.EstimatedSeconds = p.FirstStepSeconds + float64(o.Steps-1)*p.StepSeconds
	return p, nil
}

// DryRun opens o's inputs (printing the memory plan, refusing a run that
// does not fit) and plans the run (Session.DryRun). It takes no run-folder
// lock and writes nothing: Out and RunDir are only checked.
func DryRun(o Options) (*Plan, error) {
	o = o.withDefaults()
	if err := o.Check(); err != nil {
		return nil, err
	}
	in, s, err := openSession(o)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	return s.DryRun()
}
