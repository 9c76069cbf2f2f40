package llm

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// GenerateOptions configures decoding (see Runner.Generate).
type GenerateOptions struct {
	MaxNewTokens int // new tokens per prompt (required, > 0)

	// SkipFiniteCheck skips the float32 forward over the generated rows that
	// looks for NaN/Inf logits after decoding (throughput benchmarks only).
	SkipFiniteCheck bool

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

	// StopWhen, when set, is asked after every new token of a row that is
	// still running, with that row's new tokens so far (stop token
	// included); true stops the row there (a text stop string, say). The
	// whole batch ends when every row has stopped, so rows that stop early
	// save decode steps. Like StopTokens it makes the ids come back to the
	// host each step.
	StopWhen func(row int, newTokens []int32) bool
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
// lengths [batchSize] int32 and returns pick's next-token output for each
// prompt's last token (tokenPick.apply; pickInputs are the pick's inputs),
// followed by the KV cache, 2 per layer (keys, values), each [batchSize,
// numKVHeads, cacheLen, headDim] — cache slot t < promptLen holds prompt
// position t (slots ≥ lengths[b] hold padding, never attended to), slots ≥
// promptLen are zero — and, when sampling, the new RNG state last.
func prefillGraph(cfg *Config, params ParamFn, ids, lengths *Node, cacheLen int, dtype dtypes.DType, pick tokenPick, pickInputs []*Node) []*Node {
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
	return pickOutputs(outputs, pick, d.lmHead(hLast), pickInputs)
}

// pickOutputs sets outputs[0] to pick's next-token output for logits
// [batchSize, vocab] and appends the new RNG state when the pick has one.
func pickOutputs(outputs []*Node, pick tokenPick, logits *Node, pickInputs []*Node) []*Node {
	next, state := pick.apply(logits, pickInputs)
	outputs[0] = next
	if state != nil {
		outputs = append(outputs, state)
	}
	return outputs
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
// It returns pick's next-token output followed by the updated cache (and,
// when sampling, the new RNG state), as prefillGraph.
func decodeGraph(cfg *Config, params ParamFn, tokens, lengths, step, promptLen *Node, cache []*Node, dtype dtypes.DType,
	pick tokenPick, pickInputs []*Node) []*Node {
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
	return pickOutputs(outputs, pick, Reshape(d.lmHead(h), batchSize, cfg.VocabSize), pickInputs)
}
