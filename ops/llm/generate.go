package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// GenerateOptions configures decoding (see Runner.Generate).
type GenerateOptions struct {
	MaxNewTokens int // new tokens per prompt (required, > 0)

	// Temperature ≤ 0 means greedy decoding (argmax, first index on ties);
	// otherwise logits are divided by it and the next token is sampled.
	Temperature float64
	TopK        int     // sampling: keep the K most likely tokens (0 = all)
	TopP        float64 // sampling: keep the smallest set of most likely tokens with probability ≥ TopP (0 or ≥ 1 = all)
	Seed        uint64  // sampling: the same seed, prompts and options give the same output

	// StopTokens: a sequence stops after it emits one of these ids (the stop
	// token is kept in the output). Empty = always generate MaxNewTokens.
	// Use Config.EOSTokenIDs for the Hugging Face behaviour.
	StopTokens []int
}

func (o *GenerateOptions) validate() error {
	switch {
	case o.MaxNewTokens <= 0:
		return fmt.Errorf("llm.Generate: MaxNewTokens must be > 0, got %d", o.MaxNewTokens)
	case o.TopK < 0:
		return fmt.Errorf("llm.Generate: TopK must be ≥ 0, got %d", o.TopK)
	case o.TopP < 0 || math.IsNaN(o.TopP):
		return fmt.Errorf("llm.Generate: TopP must be in [0, 1], got %g", o.TopP)
	case math.IsNaN(o.Temperature) || math.IsInf(o.Temperature, 0):
		return fmt.Errorf("llm.Generate: invalid Temperature %g", o.Temperature)
	}
	return nil
}

// Generate continues one prompt with a fresh Runner on m (see
// Runner.Generate) and returns prompt + new tokens.
func Generate(backend compute.Backend, m *Model, prompt []int32, opts GenerateOptions) ([]int32, error) {
	r, err := NewRunner(backend, m)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out, err := r.Generate([][]int32{prompt}, opts)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// prefillGraph runs the (right-padded) prompts ids [batchSize, promptLen] with
// lengths [batchSize] int32 and returns the next-token result of each prompt's
// last token — logits [batchSize, vocab] float32, or with greedy the argmax
// ids [batchSize] int32 (picked on the device) — followed by the KV cache, 2
// per layer (keys, values), each [batchSize, numKVHeads, cacheLen, headDim]:
// cache slot t < promptLen holds prompt position t (slots ≥ lengths[b] hold
// padding, never attended to), slots ≥ promptLen are zero.
func prefillGraph(cfg *Config, params ParamFn, ids, lengths *Node, cacheLen int, dtype dtypes.DType, greedy bool) []*Node {
	d := newDecoder(cfg, params, &ForwardOptions{DType: dtype})
	g := ids.Graph()
	batchSize, promptLen := ids.Shape().Dim(0), ids.Shape().Dim(1)
	positions := Iota(g, shapesOf(dtypes.Int32, 1, promptLen), 1) // [1, promptLen]
	rope := d.ropeTables(positions)
	tokenPos := Iota(g, shapesOf(dtypes.Int32, batchSize, promptLen), 1) // [batchSize, promptLen]
	lengths2 := InsertAxes(lengths, -1)                                  // [batchSize, 1]
	bias := attentionBias(causalMask(g, promptLen, promptLen, 0), LessThan(tokenPos, lengths2))

	x := d.embed(ids)
	outputs := []*Node{nil}
	for l := 0; l < cfg.NumLayers; l++ {
		var keys, values *Node
		x, keys, values = d.layer(l, x, rope, bias, nil)
		outputs = append(outputs, padAxis(keys, 2, cacheLen), padAxis(values, 2, cacheLen))
	}
	h := d.rmsNorm(x, "model.norm.weight") // [batchSize, promptLen, hidden]
	// Pick each row's last prompt position with a one-hot contraction.
	last := ConvertDType(Equal(tokenPos, SubScalar(lengths2, 1)), d.dtype) // [batchSize, promptLen]
	hLast := DotGeneral(last, []int{1}, []int{0}, h, []int{1}, []int{0})   // [batchSize, hidden]
	outputs[0] = nextTokenOutput(d.lmHead(hLast), greedy)
	return outputs
}

// nextTokenOutput is logits [batchSize, vocab] float32 as they are, or with
// greedy their argmax [batchSize] int32 (the first index on ties, as
// torch.argmax), so only batchSize ids leave the device per step.
func nextTokenOutput(logits *Node, greedy bool) *Node {
	if !greedy {
		return logits
	}
	return ArgMax(logits, -1, dtypes.Int32)
}

// padAxis zero-pads x along axis to size n.
func padAxis(x *Node, axis, n int) *Node {
	have := x.Shape().Dim(axis)
	if have == n {
		return x
	}
	dims := slices.Clone(x.Shape().Dimensions)
	dims[axis] = n - have
	return Concatenate([]*Node{x, Zeros(x.Graph(), shapesOf(x.DType(), dims...))}, axis)
}

// decodeGraph runs one new token per row: tokens [batchSize] int32 at decode
// step (scalar int32, 0 for the first token after the prompt), given the
// prompt lengths [batchSize] int32, the padded prompt length promptLen (scalar
// int32) and the KV cache (2 per layer, [batchSize, numKVHeads, cacheLen,
// headDim], laid out as prefillGraph describes). Row b's token sits at
// position lengths[b]+step (its rotary angle) but is stored in the same cache
// slot promptLen+step for every row: attention does not depend on where a key
// is stored, only on which slots are visible (t < lengths[b], or promptLen ≤
// t ≤ promptLen+step). One slot for the whole batch is what lets a backend
// with DynamicUpdateSlice write just that slice (see kvCache.store).
// It returns nextTokenOutput (logits, or argmax ids with greedy) followed by
// the updated cache.
func decodeGraph(cfg *Config, params ParamFn, tokens, lengths, step, promptLen *Node, cache []*Node, dtype dtypes.DType, greedy bool) []*Node {
	d := newDecoder(cfg, params, &ForwardOptions{DType: dtype})
	g := tokens.Graph()
	batchSize := tokens.Shape().Dim(0)
	if len(cache) != 2*cfg.NumLayers {
		panic(fmt.Sprintf("llm: decode needs %d cache tensors, got %d", 2*cfg.NumLayers, len(cache)))
	}
	cacheLen := cache[0].Shape().Dim(2)
	slot := Add(promptLen, step)                                 // scalar int32
	pos := InsertAxes(Add(lengths, step), -1)                    // [batchSize, 1]
	rope := d.ropeTables(pos)                                    // [batchSize, 1, 1, headDim/2]
	t := Iota(g, shapesOf(dtypes.Int32, batchSize, cacheLen), 1) // [batchSize, cacheLen]
	visible := LogicalOr(LessThan(t, InsertAxes(lengths, -1)),   // the row's prompt
		LogicalAnd(GreaterOrEqual(t, promptLen), LessOrEqual(t, slot))) // generated so far, this token included
	bias := attentionBias(InsertAxes(visible, 1), nil) // [batchSize, 1, 1, 1, cacheLen]
	kv := newKVSlot(g, slot, cacheLen)
	x := d.embed(InsertAxes(tokens, -1)) // [batchSize, 1, hidden]
	outputs := []*Node{nil}
	for l := 0; l < cfg.NumLayers; l++ {
		var keys, values *Node
		kv.keys, kv.values = cache[2*l], cache[2*l+1]
		x, keys, values = d.layer(l, x, rope, bias, kv)
		outputs = append(outputs, keys, values)
	}
	h := d.rmsNorm(x, "model.norm.weight")
	outputs[0] = nextTokenOutput(Reshape(d.lmHead(h), batchSize, cfg.VocabSize), greedy)
	return outputs
}

// sampler picks next tokens on the host from float32 logits.
type sampler struct {
	opts GenerateOptions
	rng  *rand.Rand
}

func newSampler(opts GenerateOptions) *sampler {
	return &sampler{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
}

// next returns the chosen token id for one row of logits [vocab].
func (s *sampler) next(logits []float32) int {
	if s.opts.Temperature <= 0 {
		return argmaxFirst(logits)
	}
	// Candidates sorted by logit, descending (ties: lower id first).
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	if k := s.opts.TopK; k > 0 && k < len(idx) {
		idx = idx[:k]
	}
	probs := make([]float64, len(idx))
	maxLogit := float64(logits[idx[0]]) / s.opts.Temperature
	var total float64
	for i, id := range idx {
		probs[i] = math.Exp(float64(logits[id])/s.opts.Temperature - maxLogit)
		total += probs[i]
	}
	if p := s.opts.TopP; p > 0 && p < 1 {
		// Keep the shortest prefix whose probability reaches p (at least one token).
		var cum float64
		keep := len(idx)
		for i := range probs {
			cum += probs[i] / total
			if cum >= p {
				keep = i + 1
				break
			}
		}
		idx, probs = idx[:keep], probs[:keep]
		total = 0
		for _, q := range probs {
			total += q
		}
	}
	u := s.rng.Float64() * total
	for i, q := range probs {
		u -= q
		if u < 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}

// argmaxFirst is the index of the largest value (the first one on ties, as torch.argmax).
func argmaxFirst(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
