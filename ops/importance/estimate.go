package importance

import (
	"fmt"
	"math"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// DefaultBatchSize is the number of sequences per graph execution when
// Options.BatchSize is 0.
const DefaultBatchSize = 8

// Options of Estimate. The zero value computes the activation scores with
// the default aggregation and nothing else.
type Options struct {
	Aggregation Aggregation  // zero value = DefaultAggregation()
	BatchSize   int          // sequences per graph execution (default DefaultBatchSize)
	DType       dtypes.DType // compute dtype of the forward pass (default float32; reductions are always float32)

	LMLoss    bool // compute lm_loss of the full model (implied by DropOne and BlockSize)
	DropOne   bool // drop_one_lm_loss: LM loss with each layer removed (numLayers extra passes)
	BlockSize int  // > 0: block_lm_loss[s] with layers s … s+BlockSize−1 removed (numLayers−BlockSize+1 extra passes)

	// BlockScorer, optional, scores the same block sweep with another
	// function (e.g. a downstream multiple-choice accuracy); needs BlockSize.
	BlockScorer *BlockScorer

	// Skip chooses how ablations remove layers (default SkipAuto).
	Skip SkipMode

	// Parts ≥ 2 deals the batches round-robin into that many disjoint parts,
	// accumulated separately in the same pass, and reports the Spearman
	// correlation of every axis between parts. Needs at least Parts batches.
	Parts int

	ModelID string // recorded in the scores (model folder or hub id)

	// Progress, optional, is called after each unit of work of a stage
	// ("activations", "drop-one", "blocks", "block-scorer").
	Progress func(stage string, done, total int)
}

// SkipMode is how the ablations (drop-one, blocks) remove layers.
type SkipMode int

const (
	// SkipAuto reuses the full model's per-layer inputs: per batch one
	// forward records the residual stream entering every layer, and the
	// model without layers s … e−1 runs only layers e … numLayers−1 (and the
	// head) on the stream entering layer s — a drop-one sweep costs about
	// half the layers of SkipStatic and one compilation per first layer.
	SkipAuto SkipMode = iota
	// SkipMasked passes the removed layers as a graph input
	// (llm.ForwardOptions.LayerMask): one compilation serves every skip
	// pattern, every layer is computed.
	SkipMasked
	// SkipStatic compiles one graph per pattern with
	// ForwardOptions.SkipLayers (removed layers cost nothing).
	SkipStatic
)

// BlockScorer is a block-sweep scoring function with its description.
type BlockScorer struct {
	Score          ScoreFn
	Metric         string // e.g. "acc"
	Task           string // e.g. the task file
	HigherIsBetter bool
}

// Estimate runs the importance pass of the model (config + host weights
// keyed by Hugging Face names, any float dtype) over the calibration set.
// The batch's activations are checked against the available memory
// (llm.CheckFits) before anything runs.
func Estimate(backend compute.Backend, cfg *llm.Config, weights map[string]*tensors.Tensor, calib *Calibration, opts Options) (*Scores, error) {
	net, err := calibratedNetwork(cfg, weights, calib, opts.DType)
	if err != nil {
		return nil, err
	}
	if err := checkBatchFits(cfg, calib, opts.BatchSize, opts.DType); err != nil {
		return nil, err
	}
	s, err := estimate(backend, net, calib, opts)
	if err != nil {
		return nil, err
	}
	s.Backend = backend.Name()
	return s, nil
}

// checkBatchFits refuses a batch size whose forward activations cannot fit
// in memory; a batch larger than the calibration set is cut to it.
func checkBatchFits(cfg *llm.Config, calib *Calibration, batchSize int, dtype dtypes.DType) error {
	if batchSize < 0 {
		return fmt.Errorf("importance: batch size must be ≥ 1 (0 = default %d), got %d", DefaultBatchSize, batchSize)
	}
	if batchSize == 0 {
		batchSize = DefaultBatchSize
	}
	batchSize = min(batchSize, max(len(calib.IDs), 1))
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float32
	}
	return llm.CheckFits(fmt.Sprintf("importance: a batch of %d × %d tokens", batchSize, calib.SeqLen()), cfg.ChunkedForwardActivationBytes(dtype, batchSize, calib.SeqLen()))
}

// calibratedNetwork builds the model's network in dtype (default float32)
// after checking the calibration ids against its vocabulary.
func calibratedNetwork(cfg *llm.Config, weights map[string]*tensors.Tensor, calib *Calibration, dtype dtypes.DType) (*llmNetwork, error) {
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float32
	}
	net, err := newLLMNetwork(cfg, weights, dtype)
	if err != nil {
		return nil, err
	}
	if err := calib.Validate(cfg.VocabSize); err != nil {
		return nil, err
	}
	return net, nil
}

// LMLossScorer returns a ScoreFn computing the mean next-token cross-entropy
// over calib of the model with the given layers removed (as SkipMasked: one
// compiled graph per batch shape serves every pattern).
// Use it, or any other ScoreFn, with DropOne and BlockSweep.
func LMLossScorer(backend compute.Backend, cfg *llm.Config, weights map[string]*tensors.Tensor, calib *Calibration, batchSize int, dtype dtypes.DType) (ScoreFn, error) {
	net, err := calibratedNetwork(cfg, weights, calib, dtype)
	if err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	sc := &lossScorer{backend: backend, net: net, calib: calib, batchSize: batchSize}
	return sc.score, nil
}

// estimate is Estimate on any network (tests use a stand-in).
func estimate(backend compute.Backend, net network, calib *Calibration, opts Options) (*Scores, error) {
	started := time.Now()
	d := net.dims()
	if err := d.validate(); err != nil {
		return nil, err
	}
	agg := opts.Aggregation
	if agg == (Aggregation{}) {
		agg = DefaultAggregation()
	}
	if err := agg.Validate(); err != nil {
		return nil, err
	}
	if err := calib.Validate(0); err != nil {
		return nil, err
	}
	batchSize := opts.BatchSize
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	if opts.BlockSize < 0 || opts.BlockSize > d.NumLayers {
		return nil, fmt.Errorf("importance: block size %d out of range [1, %d]", opts.BlockSize, d.NumLayers)
	}
	if opts.BlockScorer != nil && (opts.BlockSize == 0 || opts.BlockScorer.Score == nil) {
		return nil, fmt.Errorf("importance: a block scorer needs a block size and a scoring function")
	}
	numBatches := calib.numBatches(batchSize)
	if opts.Parts == 1 || opts.Parts < 0 {
		return nil, fmt.Errorf("importance: rank stability needs at least 2 parts, got %d", opts.Parts)
	}
	if opts.Parts >= 2 && numBatches < opts.Parts {
		return nil, fmt.Errorf("importance: %d parts need at least %d batches, the calibration set makes %d of %d samples (lower the batch size or add samples)",
			opts.Parts, opts.Parts, numBatches, batchSize)
	}
	progress := func(stage string) func(done, total int) {
		if opts.Progress == nil {
			return nil
		}
		return func(done, total int) { opts.Progress(stage, done, total) }
	}
	wantLoss := opts.LMLoss || opts.DropOne || opts.BlockSize > 0

	// One pass: activation statistics (and the full model's loss).
	lay := newLayout(d, agg)
	runner, err := newBatchRunner(backend, net, lay, wantLoss)
	if err != nil {
		return nil, err
	}
	total := newAccumulator(lay)
	var parts []*accumulator
	for range opts.Parts {
		parts = append(parts, newAccumulator(lay))
	}
	for i := range numBatches {
		b := calib.batch(i, batchSize)
		flat, err := runner.run(b)
		b.finalize()
		if err != nil {
			runner.finalize()
			return nil, fmt.Errorf("batch %d of %d: %w", i+1, numBatches, err)
		}
		if err := total.addBatch(flat); err != nil {
			runner.finalize()
			return nil, err
		}
		if parts != nil {
			if err := parts[i%len(parts)].addBatch(flat); err != nil {
				runner.finalize()
				return nil, err
			}
		}
		if p := progress("activations"); p != nil {
			p(i+1, numBatches)
		}
	}
	runner.finalize()

	axis := total.scores()
	if err := axis.checkFinite(); err != nil {
		return nil, err
	}
	s := &Scores{Importance: results.Importance{
		FFN: axis.FFN, Heads: axis.Heads, Hidden: axis.Hidden, BI: axis.BI,
		Model:    opts.ModelID,
		BatchAgg: string(agg.Batch),
		SeqAgg:   string(agg.Seq),
		Samples:  len(calib.IDs),
		Tokens:   int64(math.Round(total.tokens)),
		SeqLen:   calib.SeqLen(),
		Created:  started.UTC(),
	}}
	s.NumKVHeads = d.NumKVHeads
	if s.HeadRankByGroup, err = HeadRankingByGroup(axis.Heads, d.NumKVHeads); err != nil {
		return nil, err
	}
	if wantLoss {
		s.LMLoss = total.lmLoss()
		if nonFinite(s.LMLoss) {
			return nil, fmt.Errorf("importance: activation pass: lm_loss of the full model is %g: %w", s.LMLoss, llm.ErrNonFinite)
		}
	}
	if parts != nil {
		partScores := make([]*AxisScores, len(parts))
		minRows := math.Inf(1)
		for i, p := range parts {
			partScores[i] = p.scores()
			minRows = math.Min(minRows, p.rows)
		}
		if s.RankStability, err = RankStabilityOf(partScores, int(minRows)); err != nil {
			return nil, err
		}
		s.StabilitySummary = SummarizeStability(s.RankStability)
	}

	// Ablations: the LM loss without each layer (drop-one) and block.
	sweep, finalize := lossSweep(backend, net, calib, batchSize, opts.Skip)
	defer finalize()
	if opts.DropOne {
		if s.DropOneLMLoss, err = sweep(1, progress("drop-one")); err != nil {
			return nil, err
		}
		if err := checkFiniteLosses("drop-one lm_loss without layer", s.DropOneLMLoss); err != nil {
			return nil, err
		}
	}
	if opts.BlockSize > 0 {
		s.BlockSize = opts.BlockSize
		if s.BlockLMLoss, err = sweep(opts.BlockSize, progress("blocks")); err != nil {
			return nil, err
		}
		if err := checkFiniteLosses(fmt.Sprintf("block lm_loss without the %d layers starting at layer", opts.BlockSize), s.BlockLMLoss); err != nil {
			return nil, err
		}
	}
	if bs := opts.BlockScorer; bs != nil {
		values, err := BlockSweep(d.NumLayers, opts.BlockSize, bs.Score, progress("block-scorer"))
		if err != nil {
			return nil, err
		}
		s.BlockScores = &results.BlockScores{Metric: bs.Metric, Task: bs.Task, HigherIsBetter: bs.HigherIsBetter,
			BlockSize: opts.BlockSize, Values: values}
		if base, err := bs.Score(make([]bool, d.NumLayers)); err == nil {
			s.BlockScores.Baseline = &base
		} else {
			return nil, fmt.Errorf("importance: block scorer on the full model: %w", err)
		}
	}
	s.DurationSec = time.Since(started).Seconds()
	return s, nil
}

// lossSweep returns the function computing the LM loss without each block
// of k consecutive layers (k = 1: drop-one), by mode (see SkipMode), and
// its clean-up.
func lossSweep(backend compute.Backend, net network, calib *Calibration, batchSize int, mode SkipMode) (
	sweep func(k int, progress func(done, total int)) ([]float64, error), finalize func()) {
	numLayers := net.dims().NumLayers
	if mode == SkipAuto {
		p := newPrefixScorer(backend, net, calib, batchSize)
		return func(k int, progress func(done, total int)) ([]float64, error) {
			return p.losses(blockRemovals(numLayers, k), progress)
		}, p.finalize
	}
	sc := &lossScorer{backend: backend, net: net, calib: calib, batchSize: batchSize, static: mode == SkipStatic}
	return func(k int, progress func(done, total int)) ([]float64, error) {
		return BlockSweep(numLayers, k, sc.score, progress)
	}, sc.finalize
}

// EstimateModel is Estimate for a loaded checkpoint; the model folder is
// recorded as the model id unless opts.ModelID is set.
func EstimateModel(backend compute.Backend, m *llm.Model, calib *Calibration, opts Options) (*Scores, error) {
	if m == nil {
		return nil, fmt.Errorf("importance: nil model")
	}
	if opts.ModelID == "" {
		opts.ModelID = m.Source
	}
	return Estimate(backend, m.Config, m.Weights, calib, opts)
}
