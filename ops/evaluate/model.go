package evaluate

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

// ModelOptions configures NewModelLogProber.
type ModelOptions struct {
	BatchSize int          // sequences per forward pass (default 8)
	MaxLen    int          // longest input, at most (and by default) the config's max_position_embeddings: longer sequences are refused
	DType     dtypes.DType // compute dtype (default float32); log-probs are always float32
	// SkipLayers, optional, len numLayers: true = the layer is removed
	// (llm.ForwardOptions.SkipLayers), to score depth-pruning candidates.
	SkipLayers []bool
	// ChunkPositions is how many positions' logits are computed at a time
	// (0: llm.LogitsChunkPositions, at most llm.LogitsChunkBytes of float32
	// logits per chunk).
	ChunkPositions int
}

// ModelLogProber is a LogProber running llm.Forward on a backend. Batches
// are right-padded (with an attention mask) to a power-of-two length and
// row count, so few graphs are compiled; weights are uploaded once and
// stay on the device between calls.
type ModelLogProber struct {
	backend compute.Backend
	model   *llm.Model // to locate non-finite activations on the error path
	cfg     *llm.Config
	opts    ModelOptions
	exec    *graph.Exec
	weights []any // *tensors.Tensor in the order of names
}

// NewModelLogProber builds the scorer of a model (config + host weights
// keyed by Hugging Face tensor names, as llm.LoadModel returns it).
func NewModelLogProber(backend compute.Backend, m *llm.Model, opts ModelOptions) (*ModelLogProber, error) {
	if m == nil || m.Config == nil || len(m.Weights) == 0 {
		return nil, fmt.Errorf("evaluate: model config or weights missing")
	}
	cfg, weights := m.Config, m.Weights
	if opts.BatchSize < 0 || opts.MaxLen < 0 {
		return nil, fmt.Errorf("evaluate: batch size %d and max length %d must be ≥ 1 (0 = default)", opts.BatchSize, opts.MaxLen)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 8
	}
	if cfg.MaxPositions > 0 && opts.MaxLen > cfg.MaxPositions {
		opts.MaxLen = cfg.MaxPositions // a cap: inputs beyond the model's positions are refused, never computed
	}
	if opts.MaxLen == 0 {
		opts.MaxLen = cfg.MaxPositions
		if opts.MaxLen <= 0 {
			opts.MaxLen = 2048
		}
	}
	if opts.DType == dtypes.InvalidDType {
		opts.DType = dtypes.Float32
	}
	if opts.SkipLayers != nil && len(opts.SkipLayers) != cfg.NumLayers {
		return nil, fmt.Errorf("evaluate: SkipLayers has %d entries for %d layers", len(opts.SkipLayers), cfg.NumLayers)
	}
	names := slices.Sorted(maps.Keys(weights))
	lp := &ModelLogProber{backend: backend, model: m, cfg: cfg, opts: opts}
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
		lp.weights = append(lp.weights, weights[n])
	}
	// inputs: ids [batchSize, seqLen] int32, targets [batchSize, seqLen] int32,
	// mask [batchSize, seqLen] bool, then the weights in name order.
	fn := func(inputs []*graph.Node) []*graph.Node {
		ids, targets, mask, ws := inputs[0], inputs[1], inputs[2], inputs[3:]
		params := func(name string) *graph.Node {
			if i, ok := index[name]; ok {
				return ws[i]
			}
			return nil
		}
		// The lm_head is applied a chunk of positions at a time: the whole
		// batch's [batchSize, seqLen, vocab] logits never exist.
		out := llm.Forward(cfg, params, ids, &llm.ForwardOptions{AttentionMask: mask, DType: opts.DType, SkipLayers: opts.SkipLayers, NoLogits: true})
		chunk := opts.ChunkPositions
		if chunk <= 0 {
			chunk = llm.LogitsChunkPositions(ids.Shape().Dim(0), cfg.VocabSize)
		}
		logp, greedy := llm.TargetLogProbsChunked(out.Hidden[cfg.NumLayers], llm.LMHeadWeight(cfg, params), targets, opts.DType, chunk)
		return []*graph.Node{logp, greedy}
	}
	exec, err := graph.NewExec(backend, fn)
	if err != nil {
		return nil, fmt.Errorf("evaluate: building the scoring graph: %w", err)
	}
	lp.exec = exec.WithName("evaluate.logprobs").SetMaxCache(128)
	return lp, nil
}

// memoryPlan is the weights as held (bytes in their dtypes) and the forward
// activations of a batch of rows sequences of up to seqLen tokens (inputs
// of seqLen-1, padded as logProbsBatch pads them).
func (m *ModelLogProber) memoryPlan(rows, seqLen int) (weightBytes, activationBytes int64) {
	for _, w := range m.weights {
		weightBytes += w.(*tensors.Tensor).Shape().ByteSize()
	}
	return weightBytes, m.cfg.ChunkedForwardActivationBytes(m.opts.DType, rows, paddedLen(max(1, seqLen-1), m.opts.MaxLen))
}

// Close releases the compiled graphs (the weights stay with the model).
func (m *ModelLogProber) Close() { m.exec.Finalize() }

// MaxLen implements LogProber.
func (m *ModelLogProber) MaxLen() int { return m.opts.MaxLen }

// BatchSize implements LogProber.
func (m *ModelLogProber) BatchSize() int { return m.opts.BatchSize }

// LogProbs implements LogProber.
func (m *ModelLogProber) LogProbs(seqs [][]int32) ([]SeqLogProbs, error) {
	out := make([]SeqLogProbs, 0, len(seqs))
	for s := 0; s < len(seqs); s += m.opts.BatchSize {
		part, err := m.logProbsBatch(seqs[s:min(s+m.opts.BatchSize, len(seqs))])
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// paddedLen rounds n up to a power of two (at least 8), capped at maxLen.
func paddedLen(n, maxLen int) int {
	p := 8
	for p < n {
		p *= 2
	}
	return min(p, max(maxLen, n))
}

func (m *ModelLogProber) logProbsBatch(seqs [][]int32) ([]SeqLogProbs, error) {
	longest := 1
	for i, s := range seqs {
		if len(s) < 2 {
			return nil, fmt.Errorf("evaluate: sequence %d has %d tokens, need at least 2", i, len(s))
		}
		if len(s)-1 > m.opts.MaxLen {
			return nil, fmt.Errorf("evaluate: sequence %d of %d tokens exceeds max length %d+1", i, len(s), m.opts.MaxLen)
		}
		for t, id := range s {
			if id < 0 || int(id) >= m.cfg.VocabSize {
				return nil, fmt.Errorf("evaluate: sequence %d: token id %d at %d is outside the model's vocabulary [0, %d)", i, id, t, m.cfg.VocabSize)
			}
		}
		longest = max(longest, len(s)-1)
	}
	seqLen := paddedLen(longest, m.opts.MaxLen)
	rows := 1 // a power of two, at most the batch size
	for rows < len(seqs) {
		rows *= 2
	}
	rows = max(min(rows, m.opts.BatchSize), len(seqs))
	if err := llm.CheckFits(fmt.Sprintf("evaluate: a forward pass on a [%d, %d] batch", rows, seqLen), m.cfg.ChunkedForwardActivationBytes(m.opts.DType, rows, seqLen)); err != nil {
		return nil, err
	}
	ids := make([]int32, rows*seqLen)
	targets := make([]int32, rows*seqLen)
	mask := make([]bool, rows*seqLen)
	for r := range rows {
		if r >= len(seqs) { // filler row: one visible token, ignored
			mask[r*seqLen] = true
			continue
		}
		s := seqs[r]
		for t := 0; t < len(s)-1; t++ {
			ids[r*seqLen+t] = s[t]
			targets[r*seqLen+t] = s[t+1]
			mask[r*seqLen+t] = true
		}
	}
	args := append([]any{
		tensors.FromFlatDataAndDimensions(ids, rows, seqLen),
		tensors.FromFlatDataAndDimensions(targets, rows, seqLen),
		tensors.FromFlatDataAndDimensions(mask, rows, seqLen),
	}, m.weights...)
	outs, err := m.exec.Exec(args...)
	if err != nil {
		return nil, fmt.Errorf("evaluate: forward pass on a [%d, %d] batch: %w", rows, seqLen, err)
	}
	logp := tensors.MustCopyFlatData[float32](outs[0])
	greedy := tensors.MustCopyFlatData[bool](outs[1])
	for _, o := range outs {
		o.MustFinalizeAll()
	}
	res := make([]SeqLogProbs, len(seqs))
	for r, s := range seqs {
		n := len(s) - 1
		lp := make([]float64, n)
		gr := make([]bool, n)
		for t := range n {
			lp[t] = float64(logp[r*seqLen+t])
			gr[t] = greedy[r*seqLen+t]
			if math.IsNaN(lp[t]) || math.IsInf(lp[t], 0) {
				err := fmt.Errorf("evaluate: sequence %d, position %d: log-probability of the next token is %g (non-finite logits): %w", r, t, lp[t], llm.ErrNonFinite)
				if m.opts.SkipLayers == nil { // the diagnosis runs the whole model
					if where := llm.LocateNonFinite(m.backend, m.model, m.opts.DType, [][]int32{s[:len(s)-1]}); where != "" {
						err = fmt.Errorf("%w; the first non-finite activations are in %s", err, where)
					}
				}
				return nil, err
			}
		}
		res[r] = SeqLogProbs{LogProbs: lp, Greedy: gr}
	}
	return res, nil
}
