package importance

import (
	"fmt"
	"time"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
)

// Plan is what an importance run will do, with its time estimated from a
// measured run on the first calibration batch (DryRun).
type Plan struct {
	Samples   int   `json:"samples"`
	SeqLen    int   `json:"seq_len"`
	BatchSize int   `json:"batch_size"`
	Batches   int   `json:"batches"`
	Tokens    int64 `json:"tokens"`
	// Stages are the passes over the whole calibration set: "activations"
	// (1) then "drop-one" (one per layer) and "blocks" (one per block start).
	Stages []PlanStage `json:"stages"`
	// Memory: the weights in the compute dtype and one batch's forward
	// activations, the loss's logits a chunk of positions at a time (llm
	// estimates; CheckFits refuses a run above what is free).
	WeightBytes     int64 `json:"weight_bytes"`
	ActivationBytes int64 `json:"activation_bytes"`
	// FirstBatchSeconds is the measured time of every stage on the first
	// batch alone (graph compilation included, so the estimate errs long on
	// compiling backends); EstimatedSeconds = FirstBatchSeconds × Batches.
	FirstBatchSeconds float64 `json:"first_batch_seconds"`
	EstimatedSeconds  float64 `json:"estimated_seconds"`
}

// PlanStage is one stage of the run: Passes over the calibration set.
type PlanStage struct {
	Name   string `json:"name"`
	Passes int    `json:"passes"`
}

// DryRun plans Estimate(backend, m, calib, opts) without running it: the
// stages, batches and memory, and the time at the rate measured by running
// every stage on the first batch only (every stage's cost is linear in the
// number of batches). opts.Parts is ignored (it does not change the work),
// a BlockScorer's own cost (a downstream task, not calibration batches) is
// not part of the estimate, and nothing is written.
func DryRun(backend compute.Backend, m *llm.Model, calib *Calibration, opts Options) (*Plan, error) {
	if m == nil || calib == nil || len(calib.IDs) == 0 {
		return nil, fmt.Errorf("importance: dry run needs a model and a non-empty calibration set")
	}
	batchSize := opts.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	batchSize = min(batchSize, len(calib.IDs))
	dtype := opts.DType
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float32
	}
	cfg := m.Config
	p := &Plan{Samples: len(calib.IDs), SeqLen: calib.SeqLen(), BatchSize: batchSize, Batches: calib.numBatches(batchSize),
		Tokens: calib.Tokens(), WeightBytes: cfg.WeightBytes(dtype), ActivationBytes: cfg.ChunkedForwardActivationBytes(dtype, batchSize, calib.SeqLen()),
		Stages: []PlanStage{{Name: "activations", Passes: 1}}}
	if opts.DropOne {
		p.Stages = append(p.Stages, PlanStage{Name: "drop-one", Passes: cfg.NumLayers})
	}
	if opts.BlockSize > 0 {
		p.Stages = append(p.Stages, PlanStage{Name: "blocks", Passes: cfg.NumLayers - opts.BlockSize + 1})
	}
	first := &Calibration{IDs: calib.IDs[:batchSize]}
	if calib.Lengths != nil {
		first.Lengths = calib.Lengths[:batchSize]
	}
	one := opts
	one.Parts, one.Progress, one.BatchSize, one.BlockScorer = 0, nil, batchSize, nil
	started := time.Now()
	if _, err := EstimateModel(backend, m, first, one); err != nil {
		return nil, fmt.Errorf("importance: dry run on the first batch: %w", err)
	}
	p.FirstBatchSeconds = time.Since(started).Seconds()
	p.EstimatedSeconds = p.FirstBatchSeconds * float64(p.Batches)
	return p, nil
}
