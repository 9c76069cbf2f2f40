package interactive

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/distill"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/results"
)

// storeScope is where the Explorer keeps the model's weights in its store.
const storeScope = "/interactive"

// Options of New.
type Options struct {
	// ComputeDType is the dtype of the forward pass (default float32).
	ComputeDType dtypes.DType
	// BytesDType is the dtype weight and KV-cache bytes are counted in
	// (default: the model's storage dtype, prune.StorageDType).
	BytesDType dtypes.DType
}

// Explorer evaluates pruning plans of one model on one held-out batch.
// It is safe for concurrent use (evaluations are serialized).
type Explorer struct {
	model      *llm.Model
	imp        *results.Importance
	bytesDType dtypes.DType

	mu          sync.Mutex
	exec        *model.Exec
	ids, valid  *tensors.Tensor // [batchSize, seqLen] int32, bool
	refLogProbs *tensors.Tensor // [batchSize, seqLen, vocab] float32: the full model's log-probabilities
	compiles    int
	tokens      int
	full        *Result
}

// Result is what one plan costs and how much it hurts.
type Result struct {
	Plan                 prune.Plan    `json:"plan"`  // resolved
	Shape                results.Shape `json:"shape"` // target shape (with total params)
	Params               int64         `json:"params"`
	ParamsRatio          float64       `json:"params_ratio"` // target / source
	WeightBytes          int64         `json:"weight_bytes"`
	KVCacheBytesPerToken int64         `json:"kv_cache_bytes_per_token"`
	Loss                 float64       `json:"lm_loss"` // next-token loss on the held-out batch
	KL                   float64       `json:"kl"`      // mean KL(full ‖ pruned) per token, nats
	DroppedLayers        []int         `json:"dropped_layers,omitempty"`
	Seconds              float64       `json:"seconds"` // wall time of this evaluation
}

// New compiles the masked forward pass of m and computes the full model's
// log-probabilities on the held-out batch ids ([batchSize][seqLen] token ids;
// rows may have different lengths, shorter rows are right-padded). imp are
// the importance scores plans select units by (any results.Importance: from
// ops/importance or a file).
func New(backend compute.Backend, m *llm.Model, imp *results.Importance, ids [][]int32, opts Options) (*Explorer, error) {
	if backend == nil {
		return nil, errors.New("interactive.New: nil backend")
	}
	if m == nil || m.Config == nil {
		return nil, errors.New("interactive.New: nil model")
	}
	if imp == nil {
		return nil, errors.New("interactive.New: nil importance scores")
	}
	if err := imp.Validate(); err != nil {
		return nil, fmt.Errorf("interactive.New: scores: %w", err)
	}
	if imp.NumLayers() != m.Config.NumLayers {
		return nil, fmt.Errorf("interactive.New: scores have %d layers, model has %d (scores of another model?)", imp.NumLayers(), m.Config.NumLayers)
	}
	cfg := m.Config
	flat, valid, batchSize, seqLen, err := padBatch(ids, cfg.VocabSize)
	if err != nil {
		return nil, fmt.Errorf("interactive.New: held-out batch: %w", err)
	}
	e := &Explorer{model: m, imp: imp, bytesDType: opts.BytesDType}
	if e.bytesDType == dtypes.InvalidDType {
		e.bytesDType = prune.StorageDType(cfg)
	}
	for _, v := range valid {
		if v {
			e.tokens++
		}
	}
	e.ids = tensors.FromFlatDataAndDimensions(flat, batchSize, seqLen)
	e.valid = tensors.FromFlatDataAndDimensions(valid, batchSize, seqLen)

	computeDType := opts.ComputeDType
	if computeDType == dtypes.InvalidDType {
		computeDType = dtypes.Float32
	}
	store := model.NewStore()
	if err := m.ToStore(store, storeScope); err != nil {
		return nil, fmt.Errorf("interactive.New: %w", err)
	}

	// Reference: the full model's log-probabilities, computed once.
	refExec, err := model.NewExec(backend, store, func(_ *model.Scope, g *Graph, in []*Node) []*Node {
		out := llm.Forward(cfg, llm.StoreParams(g, store, storeScope), in[0], &llm.ForwardOptions{AttentionMask: in[1], DType: computeDType})
		return []*Node{LogSoftmax(ConvertDType(out.Logits, dtypes.Float32), -1)}
	})
	if err != nil {
		return nil, fmt.Errorf("interactive.New: %w", err)
	}
	ref, err := refExec.Exec(e.ids, e.valid)
	refExec.Finalize()
	if err != nil {
		return nil, fmt.Errorf("interactive.New: full-model forward: %w", err)
	}
	e.refLogProbs = ref[0]

	// The masked forward: masks are inputs, so one compilation serves every plan.
	e.exec, err = model.NewExec(backend, store, func(_ *model.Scope, g *Graph, in []*Node) []*Node {
		e.compiles++
		ids, valid, refLP := in[0], in[1], in[2]
		out := llm.Forward(cfg, llm.StoreParams(g, store, storeScope), ids, &llm.ForwardOptions{
			AttentionMask: valid, DType: computeDType,
			FFNMask: in[3], HeadMask: in[4], HiddenMask: in[5], LayerMask: in[6],
		})
		logits := ConvertDType(out.Logits, dtypes.Float32) // [batchSize, seqLen, vocab]
		loss := llm.NextTokenLoss(logits, ids, valid)
		return []*Node{loss, distill.MaskedMean(distill.KLFromLogProbs(refLP, LogSoftmax(logits, -1)), valid)} // mean KL(full ‖ pruned) over valid positions
	})
	if err != nil {
		return nil, fmt.Errorf("interactive.New: %w", err)
	}
	full, err := e.Evaluate(prune.Plan{})
	if err != nil {
		return nil, err
	}
	e.full = full
	return e, nil
}

// padBatch right-pads rows with id 0 and checks ids against the vocabulary.
func padBatch(rows [][]int32, vocab int) (flat []int32, valid []bool, batchSize, seqLen int, err error) {
	if len(rows) == 0 {
		return nil, nil, 0, 0, errors.New("no sequences")
	}
	for i, r := range rows {
		if len(r) < 2 {
			return nil, nil, 0, 0, fmt.Errorf("sequence %d has %d tokens, need at least 2", i, len(r))
		}
		for j, id := range r {
			if id < 0 || int(id) >= vocab {
				return nil, nil, 0, 0, fmt.Errorf("sequence %d: token id %d at %d outside the vocabulary [0, %d)", i, id, j, vocab)
			}
		}
		seqLen = max(seqLen, len(r))
	}
	batchSize = len(rows)
	flat = make([]int32, batchSize*seqLen)
	valid = make([]bool, batchSize*seqLen)
	for i, r := range rows {
		copy(flat[i*seqLen:], r)
		for j := range r {
			valid[i*seqLen+j] = true
		}
	}
	return flat, valid, batchSize, seqLen, nil
}

// Config is the source model's config.
func (e *Explorer) Config() *llm.Config { return e.model.Config }

// Model is the source model.
func (e *Explorer) Model() *llm.Model { return e.model }

// Scores are the importance scores plans are selected by.
func (e *Explorer) Scores() *results.Importance { return e.imp }

// Full is the result of the no-op plan: the full model's loss (KL ≈ 0).
func (e *Explorer) Full() *Result { return e.full }

// Tokens is the number of valid tokens in the held-out batch.
func (e *Explorer) Tokens() int { return e.tokens }

// Compilations is how many times the masked graph was compiled (1 after
// any number of evaluations).
func (e *Explorer) Compilations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.compiles
}

// Estimate is the cost part of Evaluate only (microseconds, no forward).
func (e *Explorer) Estimate(p prune.Plan) (*Result, error) {
	cfg := e.model.Config
	est, err := p.Estimate(cfg, e.bytesDType)
	if err != nil {
		return nil, err
	}
	kept, err := prune.Select(cfg, p, e.imp)
	if err != nil {
		return nil, err
	}
	r := &Result{
		Shape: est.To, Params: est.Params.Total, WeightBytes: est.WeightBytes, KVCacheBytesPerToken: est.KVCacheBytesPerToken,
		ParamsRatio:   float64(est.Params.Total) / float64(cfg.Params().Total),
		DroppedLayers: kept.DroppedLayers(cfg.NumLayers),
	}
	r.Plan, _ = p.Resolve(cfg)
	return r, nil
}

// Evaluate returns the cost of plan p and its loss and KL on the held-out
// batch (one forward pass of the already compiled masked graph).
func (e *Explorer) Evaluate(p prune.Plan) (*Result, error) {
	start := time.Now()
	r, err := e.Estimate(p)
	if err != nil {
		return nil, err
	}
	cfg := e.model.Config
	mv, err := prune.MaskedView(cfg, p, e.imp)
	if err != nil {
		return nil, err
	}
	d := mv.Dense(cfg)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exec == nil {
		return nil, errors.New("interactive: Explorer is closed")
	}
	out, err := e.exec.Exec(e.ids, e.valid, e.refLogProbs, d.FFN, d.Heads, d.Hidden, d.Layers)
	for _, t := range []*tensors.Tensor{d.FFN, d.Heads, d.Hidden, d.Layers} {
		t.FinalizeAll()
	}
	if err != nil {
		return nil, fmt.Errorf("interactive: evaluating plan %+v: %w", p, err)
	}
	r.Loss = float64(tensors.ToScalar[float32](out[0]))
	r.KL = max(0, float64(tensors.ToScalar[float32](out[1])))
	for _, t := range out {
		t.FinalizeAll()
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// Close releases the compiled graph and the held-out tensors (not the model).
func (e *Explorer) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exec != nil {
		e.exec.Finalize()
		e.exec = nil
	}
	for _, t := range []*tensors.Tensor{e.ids, e.valid, e.refLogProbs} {
		if t != nil {
			t.FinalizeAll()
		}
	}
}
