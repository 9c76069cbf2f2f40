package llm

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// ParamFn returns the graph node of the HF-named weight
// ("model.layers.0.self_attn.q_proj.weight"), or nil if the model has none
// (a bias, a tied lm_head). Any dtype is accepted: Forward converts weights to
// the compute dtype.
type ParamFn func(hfName string) *Node

// Tap names: the per-layer activations passed to ForwardOptions.Tap.
const (
	TapResidualIn  = "residual_in"   // [batchSize, seqLen, hidden] residual stream entering layer l
	TapAttnNormOut = "attn_norm_out" // [batchSize, seqLen, hidden] output of input_layernorm (weight applied)
	TapOProjIn     = "o_proj_in"     // [batchSize, seqLen, numHeads*headDim] concatenated head outputs (HeadMask applied)
	TapMLPNormOut  = "mlp_norm_out"  // [batchSize, seqLen, hidden] output of post_attention_layernorm
	TapDownProjIn  = "down_proj_in"  // [batchSize, seqLen, ffn] silu(gate)*up (FFNMask applied)
	TapResidualOut = "residual_out"  // [batchSize, seqLen, hidden] residual stream leaving layer l
)

// ForwardOptions changes what Forward computes. The zero value (or nil) is
// the plain Hugging Face forward pass in float32.
type ForwardOptions struct {
	// Tap, if set, is called while the graph is built with every named
	// activation of every (not skipped) layer; see the Tap* constants.
	Tap func(layer int, name string, x *Node)

	// SkipLayers, if set, has length numLayers: true = the layer is removed
	// (the residual stream passes through unchanged, its Tap is not called).
	SkipLayers []bool

	// LayerMask, optional [numLayers] of 0/1 (any float dtype): scales both
	// residual updates of each layer, so a 0 removes the layer exactly like
	// SkipLayers — but as a graph value, so one compiled graph serves every
	// pattern of removed layers. Taps are still called for every layer.
	LayerMask *Node

	// FFNMask, optional [numLayers, ffn] of 0/1 (any float dtype): multiplies
	// the down_proj input, so a 0 is exactly the model with that neuron pruned.
	FFNMask *Node

	// HeadMask, optional [numLayers, numHeads] of 0/1: multiplies each query
	// head's slice of the o_proj input, so a 0 is exactly that head pruned.
	HeadMask *Node

	// HiddenMask, optional [hidden] of 0/1: emulates pruning hidden channels
	// exactly. Masked channels are zero in the embeddings and in every residual
	// update (hence everywhere), and every RMSNorm averages x² over the kept
	// channels only — the kept channels then carry exactly the activations
	// of the pruned model.
	HiddenMask *Node

	// AttentionMask, optional [batchSize, seqLen] bool, false = padding.
	// Padding must be on the right (positions are 0..seqLen-1 for every row);
	// the outputs at padded positions are meaningless.
	AttentionMask *Node

	// DType is the compute dtype (default float32). Weights are converted to
	// it; RMSNorm statistics and attention softmax are always float32, and
	// Logits are always returned as float32.
	DType dtypes.DType

	// FusedAttention asks for the backend's fused attention (XLA's cuDNN
	// flash attention on CUDA, bfloat16/float16), which never materializes
	// the [seqLen, seqLen] scores. Where the backend or dtype has none (the Go
	// backend, CPU, float32) the regular path runs. With an AttentionMask the
	// padding must be on the right (per-row lengths are passed to the kernel).
	// Validated against the decomposed attention and the transformers
	// references by TestFusedAttentionMatchesDecomposed
	// (fused_attention_test.go), which runs only on a backend with the op:
	// scripts/gpu_check.sh runs it on XLA/CUDA (its tests-llm step); see
	// docs/gpu.md for the state of that run. Production paths leave it off
	// until then; the speed runs time it (GOMINITRON_SPEED_FUSED=1).
	FusedAttention bool

	// NoLogits skips the lm_head (Outputs.Logits is nil), for passes that
	// only need activations.
	NoLogits bool
}

// Outputs of Forward.
type Outputs struct {
	Logits       *Node   // [batchSize, seqLen, vocab] float32 (nil with NoLogits)
	Hidden       []*Node // numLayers+1 × [batchSize, seqLen, hidden]: Hidden[l] enters layer l, Hidden[numLayers] is after the final norm
	LastLayerRaw *Node   // [batchSize, seqLen, hidden] the last layer's output before the final norm
}

// Forward builds the decoder's forward pass for ids [batchSize, seqLen] int32
// (any integer dtype) at positions 0..seqLen-1. It panics (GoMLX style) on
// missing weights or inconsistent shapes.
func Forward(cfg *Config, params ParamFn, ids *Node, opts *ForwardOptions) *Outputs {
	if opts == nil {
		opts = &ForwardOptions{}
	}
	d := newDecoder(cfg, params, opts)
	if ids.Rank() != 2 {
		panic(fmt.Sprintf("llm.Forward: ids must be [batchSize, seqLen], got %s", ids.Shape()))
	}
	return d.layersFrom(d.embed(ids), 0) // embed: [batchSize, seqLen, hidden]
}

// ForwardFrom runs layers first … numLayers−1, the final norm and the
// lm_head on x [batchSize, seqLen, hidden], the residual stream entering
// layer first (Outputs.Hidden[first] of a Forward with the same options):
// Forward is the embedding followed by ForwardFrom(…, 0). Removing layers
// s … first−1 of a model is ForwardFrom(Hidden[s], first), without
// recomputing layers 0 … s−1. Outputs.Hidden[l] is nil for l < first.
func ForwardFrom(cfg *Config, params ParamFn, x *Node, first int, opts *ForwardOptions) *Outputs {
	if opts == nil {
		opts = &ForwardOptions{}
	}
	d := newDecoder(cfg, params, opts)
	if x.Rank() != 3 || x.Shape().Dim(2) != cfg.Hidden {
		panic(fmt.Sprintf("llm.ForwardFrom: x must be [batchSize, seqLen, hidden=%d], got %s", cfg.Hidden, x.Shape()))
	}
	if first < 0 || first > cfg.NumLayers {
		panic(fmt.Sprintf("llm.ForwardFrom: first layer %d out of range [0, %d]", first, cfg.NumLayers))
	}
	return d.layersFrom(d.cast(x), first)
}

// layersFrom runs layers first … numLayers−1 and the head on the residual
// stream x [batchSize, seqLen, hidden] (compute dtype).
func (d *decoder) layersFrom(x *Node, first int) *Outputs {
	cfg, opts := d.cfg, d.opts
	g := x.Graph()
	seqLen := x.Shape().Dim(1)

	positions := Iota(g, shapesOf(dtypes.Int32, 1, seqLen), 1) // [1, seqLen]
	rope := d.ropeTables(positions)
	bias := attentionBias(causalMask(g, seqLen, seqLen, 0), opts.AttentionMask) // [batchSize|1, 1, seqLen, 1, seqLen]
	if opts.FusedAttention && opts.AttentionMask != nil {
		valid := opts.AttentionMask
		if valid.DType() != dtypes.Bool {
			valid = NotEqual(valid, ZerosLike(valid))
		}
		d.seqLens = ReduceSum(ConvertDType(valid, dtypes.Int32), 1)
	}

	out := &Outputs{Hidden: make([]*Node, cfg.NumLayers+1)}
	for l := first; l < cfg.NumLayers; l++ {
		out.Hidden[l] = x
		if d.skip(l) {
			continue
		}
		x, _, _ = d.layer(l, x, rope, bias, nil)
	}
	out.LastLayerRaw = x
	out.Hidden[cfg.NumLayers] = d.rmsNorm(x, "model.norm.weight")
	if !opts.NoLogits {
		out.Logits = d.lmHead(out.Hidden[cfg.NumLayers])
	}
	return out
}

// decoder holds what every layer needs while one graph is built.
type decoder struct {
	cfg        *Config
	params     ParamFn
	opts       *ForwardOptions
	dtype      dtypes.DType
	hiddenMask *Node // [hidden] in dtype, or nil
	numKept    *Node // scalar float32: kept hidden channels (HiddenMask), or nil
	seqLens    *Node // [batchSize] int32 valid lengths from AttentionMask (FusedAttention only), or nil
}

func newDecoder(cfg *Config, params ParamFn, opts *ForwardOptions) *decoder {
	if err := checkForwardConfig(cfg); err != nil {
		panic(err)
	}
	d := &decoder{cfg: cfg, params: params, opts: opts, dtype: opts.DType}
	if d.dtype == dtypes.InvalidDType {
		d.dtype = dtypes.Float32
	}
	if n := len(opts.SkipLayers); n != 0 && n != cfg.NumLayers {
		panic(fmt.Sprintf("llm.Forward: SkipLayers has length %d, want numLayers=%d", n, cfg.NumLayers))
	}
	checkMask := func(name string, m *Node, dims ...int) {
		if m != nil && !m.Shape().EqualDimensions(shapesOf(m.DType(), dims...)) {
			panic(fmt.Sprintf("llm.Forward: %s must be %v, got %s", name, dims, m.Shape()))
		}
	}
	checkMask("LayerMask", opts.LayerMask, cfg.NumLayers)
	checkMask("FFNMask", opts.FFNMask, cfg.NumLayers, cfg.FFN)
	checkMask("HeadMask", opts.HeadMask, cfg.NumLayers, cfg.NumHeads)
	checkMask("HiddenMask", opts.HiddenMask, cfg.Hidden)
	if opts.HiddenMask != nil {
		d.hiddenMask = ConvertDType(opts.HiddenMask, d.dtype)
		d.numKept = ReduceAllSum(ConvertDType(opts.HiddenMask, dtypes.Float32))
	}
	return d
}

// checkForwardConfig rejects configs Forward cannot compute exactly.
func checkForwardConfig(cfg *Config) error {
	switch {
	case cfg == nil:
		return fmt.Errorf("llm.Forward: nil config")
	case cfg.NumHeads <= 0 || cfg.NumKVHeads <= 0 || cfg.NumHeads%cfg.NumKVHeads != 0:
		return fmt.Errorf("llm.Forward: num_attention_heads=%d must be a positive multiple of num_key_value_heads=%d", cfg.NumHeads, cfg.NumKVHeads)
	case cfg.HeadDim <= 0 || cfg.HeadDim%2 != 0:
		return fmt.Errorf("llm.Forward: head_dim=%d must be positive and even", cfg.HeadDim)
	case cfg.Hidden <= 0 || cfg.FFN <= 0 || cfg.NumLayers < 0 || cfg.VocabSize <= 0:
		return fmt.Errorf("llm.Forward: hidden_size=%d, intermediate_size=%d, num_hidden_layers=%d, vocab_size=%d must be positive",
			cfg.Hidden, cfg.FFN, cfg.NumLayers, cfg.VocabSize)
	case cfg.HiddenAct != "" && cfg.HiddenAct != "silu":
		return fmt.Errorf("llm.Forward: hidden_act %q is not supported (only silu)", cfg.HiddenAct)
	case cfg.Rope.Type != "" && cfg.Rope.Type != "default" && cfg.Rope.Type != "llama3":
		return fmt.Errorf("llm.Forward: rope_type %q is not supported (default, llama3)", cfg.Rope.Type)
	}
	return nil
}

// shapesOf is shapes.Make, short for graph-building code.
func shapesOf(dtype dtypes.DType, dims ...int) shapes.Shape { return shapes.Make(dtype, dims...) }

func (d *decoder) skip(l int) bool { return len(d.opts.SkipLayers) > 0 && d.opts.SkipLayers[l] }

func (d *decoder) tap(l int, name string, x *Node) {
	if d.opts.Tap != nil {
		d.opts.Tap(l, name, x)
	}
}

// weight returns the named weight in the compute dtype; it panics if missing.
func (d *decoder) weight(name string) *Node { return d.cast(d.stored(name)) }

// stored returns the named weight as stored (any dtype); it panics if missing.
func (d *decoder) stored(name string) *Node {
	w := d.params(name)
	if w == nil {
		panic(fmt.Sprintf("llm.Forward: weight %q is missing", name))
	}
	return w
}

// optional returns the named weight in the compute dtype, or nil.
func (d *decoder) optional(name string) *Node {
	if w := d.params(name); w != nil {
		return d.cast(w)
	}
	return nil
}

func (d *decoder) cast(x *Node) *Node {
	if x.DType() != d.dtype {
		return ConvertDType(x, d.dtype)
	}
	return x
}

// linear applies an HF nn.Linear: x [..., in] · weightᵀ [out, in] (+ bias [out]).
func (d *decoder) linear(x *Node, prefix string) *Node {
	y := dotRowsConverted(x, d.stored(prefix+".weight"), d.dtype, false) // [..., out]
	if b := d.optional(prefix + ".bias"); b != nil {
		y = Add(y, alignLast(b, y.Rank()))
	}
	return y
}

// maskHidden zeroes the pruned hidden channels of x [..., hidden].
func (d *decoder) maskHidden(x *Node) *Node {
	if d.hiddenMask == nil {
		return x
	}
	return Mul(x, alignLast(d.hiddenMask, x.Rank()))
}

// alignLast reshapes the vector v [n] to [1, ..., 1, n] of the given rank, so it
// broadcasts over the last axis (GoMLX broadcasts only between equal ranks).
func alignLast(v *Node, rank int) *Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[rank-1] = v.Shape().Size()
	return Reshape(v, dims...)
}

// embed looks up ids [batchSize, seqLen] → [batchSize, seqLen, hidden].
func (d *decoder) embed(ids *Node) *Node {
	table := d.params("model.embed_tokens.weight") // [vocab, hidden]
	if table == nil {
		panic("llm.Forward: weight \"model.embed_tokens.weight\" is missing")
	}
	if ids.DType() != dtypes.Int32 {
		ids = ConvertDType(ids, dtypes.Int32)
	}
	x := Gather(table, InsertAxes(ids, -1)) // gather before casting: only the used rows are converted
	return d.maskHidden(d.cast(x))
}

// rmsNorm is HF's LlamaRMSNorm: weight * x / sqrt(mean(x²) + eps), the
// statistics in float32 (over the kept channels only with a HiddenMask).
func (d *decoder) rmsNorm(x *Node, weightName string) *Node {
	x32 := ConvertDType(x, dtypes.Float32)
	var meanSq *Node
	if d.numKept != nil {
		meanSq = Div(ReduceAndKeep(Square(x32), ReduceSum, -1), d.numKept)
	} else {
		meanSq = ReduceAndKeep(Square(x32), ReduceMean, -1)
	}
	// Div by Sqrt rather than Rsqrt: the Go backend has no Rsqrt gradient.
	normed := Div(x32, Sqrt(AddScalar(meanSq, d.cfg.RMSNormEps)))
	return Mul(d.cast(normed), alignLast(d.weight(weightName), x.Rank()))
}

// lmHead maps the final hidden states [..., hidden] to float32 logits [..., vocab].
func (d *decoder) lmHead(h *Node) *Node {
	return lmHeadLogits(h, LMHeadWeight(d.cfg, d.params), d.dtype, false)
}

// lmHeadLogits is h [..., hidden] (in dtype) · wᵀ for the output projection
// w [vocab, hidden], as float32 logits [..., vocab] (see dotRowsConverted).
// repeated is true when the graph applies w more than once (the chunked
// LM loss, once per chunk of positions).
func lmHeadLogits(h, w *Node, dtype dtypes.DType, repeated bool) *Node {
	return ConvertDType(dotRowsConverted(h, w, dtype, repeated), dtypes.Float32)
}

// dotRowsConverted is x [..., in] (in dtype) · wᵀ for a weight w [out, in]
// stored in any dtype, in dtype [..., out]. A w stored in another dtype (a
// bfloat16 checkpoint computed in float32) whose converted copy exceeds
// weightChunkBytes is converted and multiplied weightChunkBytes of rows at a
// time, so the backend never holds the whole converted weight (a
// 128k-vocabulary lm_head in float32 is 2× the stored embeddings; one
// Mistral-7B MLP projection is 235 MB). The rows are sliced, and each
// chunk's product takes x + 0 computed from the previous chunk's product, so
// the products run one after another (the conversions too in the Go
// backend's creation order, ops/backend's default; an explicit
// dependency_order may convert them all first). When the graph converts w
// repeatedly (repeated) the Go backend
// merges identical nodes, so the same rows' slice would be one node kept
// alive from the first use to the last (every chunk of the head, 0.27× the
// weights of Qwen2.5-0.5B); there the rows are gathered with indices that
// depend on the previous product (ordered under any schedule). Gathering
// made generation ~30% slower on the Go backend, so it is kept to the
// repeated case. Every output is the same dot product of one row as
// unchunked; a backend may pick another matmul kernel for the smaller
// product and sum it in another order (the Go backend does for some shapes:
// ~1e-7 relative), so the equality is bit for bit only where the kernel is
// the same (TestStoredDTypeFamilies checks bit for bit on its shapes,
// TestChunkedLossConvertedHead within a tolerance).
func dotRowsConverted(x, w *Node, dtype dtypes.DType, repeated bool) *Node {
	contract := func(x, w *Node) *Node { return DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{1}, nil) }
	if w.DType() == dtype {
		return contract(x, w)
	}
	out, in := w.Shape().Dim(0), w.Shape().Dim(1)
	rows := max(1, weightChunkBytes/(in*dtype.Size()))
	if rows >= out {
		return contract(x, ConvertDType(w, dtype))
	}
	g := x.Graph()
	var parts []*Node
	prev := x // each chunk waits for the previous chunk's product (for x, the first)
	for start := 0; start < out; start += rows {
		n := min(rows, out-start)
		if repeated {
			index := AddScalar(Iota(g, shapesOf(dtypes.Int32, n, 1), 0), float64(start))       // [n, 1]
			chunk := ConvertDType(Gather(w, Add(index, ZeroAfter(prev, dtypes.Int32))), dtype) // [n, in]: rows start..start+n-1
			prev = contract(x, chunk)                                                          // [..., n]
		} else {
			chunk := ConvertDType(SliceAxis(w, 0, AxisRange(start, start+n)), dtype) // [n, in]
			prev = contract(Add(x, ZeroAfter(prev, dtype)), chunk)                   // [..., n]
		}
		parts = append(parts, prev)
	}
	return Concatenate(parts, -1)
}

// weightChunkBytes bounds the converted copy of a weight's rows that
// dotRowsConverted holds at a time (a variable so tests can force many chunks).
var weightChunkBytes = 16 << 20

// ropeTables are the rotary tables [batchSize|1, seqLen, 1, headDim] in the compute
// dtype: cos of the angles repeated over both halves of a head, and sin with the first
// half negated (the signs of rotate_half), so that applyRope is two full-width products.
type ropeTables struct{ cos, signedSin *Node }

// ropeTables computes the tables for positions [batchSize|1, seqLen] (int).
func (d *decoder) ropeTables(positions *Node) ropeTables {
	invFreq := RopeInvFreq(d.cfg) // [headDim/2]
	inv32 := make([]float32, len(invFreq))
	for i, f := range invFreq {
		inv32[i] = float32(f)
	}
	g := positions.Graph()
	pos := InsertAxes(ConvertDType(positions, dtypes.Float32), -1, -1) // [b, s, 1, 1]
	angles := Mul(pos, alignLast(Const(g, inv32), 4))                  // [b, s, 1, headDim/2]
	cos, sin := d.cast(Cos(angles)), d.cast(Sin(angles))
	return ropeTables{cos: Concatenate([]*Node{cos, cos}, -1), signedSin: Concatenate([]*Node{Neg(sin), sin}, -1)}
}

// RopeInvFreq returns the rotary inverse frequencies [headDim/2] of the
// config, with Llama-3 scaling applied when rope_type is llama3 (as
// transformers' _compute_llama3_parameters).
func RopeInvFreq(cfg *Config) []float64 {
	half := cfg.HeadDim / 2
	theta := cfg.RopeTheta
	if theta == 0 {
		theta = 10000
	}
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = 1 / math.Pow(theta, float64(2*i)/float64(cfg.HeadDim))
	}
	if cfg.Rope.Type != "llama3" {
		return inv
	}
	r := cfg.Rope
	oldLen := float64(r.OriginalMaxPositionEmbeddings)
	lowWavelen := oldLen / r.LowFreqFactor
	highWavelen := oldLen / r.HighFreqFactor
	for i, f := range inv {
		wavelen := 2 * math.Pi / f
		switch {
		case wavelen < highWavelen: // high frequency: unchanged
		case wavelen > lowWavelen: // low frequency: scaled down
			inv[i] = f / r.Factor
		default: // medium: smooth interpolation
			smooth := (oldLen/wavelen - r.LowFreqFactor) / (r.HighFreqFactor - r.LowFreqFactor)
			inv[i] = (1-smooth)*f/r.Factor + smooth*f
		}
	}
	return inv
}

// applyRope rotates x [batchSize, seqLen, heads, headDim] (HF rotate_half convention:
// the first and second halves of each head are the pair components):
// x·cos + [x2, x1]·[-sin, sin], which is x1·cos - x2·sin and x2·cos + x1·sin bit for
// bit (negation is exact) in 6 ops over whole heads instead of 9 over half heads (the
// Go backend runs a broadcast product row by row, and half-head rows are short).
func applyRope(x *Node, rt ropeTables) *Node {
	half := x.Shape().Dim(-1) / 2
	x1 := SliceAxis(x, -1, AxisRange(0, half))
	x2 := SliceAxis(x, -1, AxisRange(half, 2*half))
	swapped := Concatenate([]*Node{x2, x1}, -1)
	return Add(Mul(x, rt.cos), Mul(swapped, rt.signedSin))
}

// causalMask is [querySeqLen, keySeqLen] bool: key t is visible from query s
// when t <= s + offset (offset = position of the first query).
func causalMask(g *Graph, querySeqLen, keySeqLen, offset int) *Node {
	q := Iota(g, shapesOf(dtypes.Int32, querySeqLen, keySeqLen), 0)
	t := Iota(g, shapesOf(dtypes.Int32, querySeqLen, keySeqLen), 1)
	return LessOrEqual(t, AddScalar(q, float64(offset)))
}

// attentionBias turns a visibility mask ([q, t] or [batchSize, q, t] bool) and an
// optional key padding mask [batchSize, t] bool into the additive float32 bias
// [batchSize|1, 1, q, 1, t] of the attention scores (0 visible, -1e9 hidden;
// finite so a fully hidden row cannot produce NaN).
func attentionBias(visible *Node, keyValid *Node) *Node {
	if visible.Rank() == 2 {
		visible = InsertAxes(visible, 0) // [1, q, t]
	}
	if keyValid != nil {
		if keyValid.DType() != dtypes.Bool {
			keyValid = NotEqual(keyValid, ZerosLike(keyValid))
		}
		b, q, t := keyValid.Shape().Dim(0), visible.Shape().Dim(1), visible.Shape().Dim(2)
		visible = LogicalAnd(
			BroadcastToDims(visible, b, q, t),
			BroadcastToDims(InsertAxes(keyValid, 1), b, q, t))
	}
	g := visible.Graph()
	bias := Where(visible, ScalarZero(g, dtypes.Float32), Scalar(g, dtypes.Float32, -1e9))
	return InsertAxes(bias, 1, 2) // [b, 1, q, 1, t]
}

// layer applies decoder layer l to x [batchSize, seqLen, hidden] and returns the new
// residual stream plus the keys and values attended to ([batchSize, numKVHeads, T, headDim];
// T = seqLen without a cache, cacheLen with one).
func (d *decoder) layer(l int, x *Node, rope ropeTables, bias *Node, cache *kvCache) (out, keys, values *Node) {
	pre := fmt.Sprintf("model.layers.%d.", l)
	d.tap(l, TapResidualIn, x)

	h := d.rmsNorm(x, pre+"input_layernorm.weight")
	d.tap(l, TapAttnNormOut, h)
	attn, keys, values := d.attention(l, h, rope, bias, cache)
	d.tap(l, TapOProjIn, attn)
	x = Add(x, d.scaleLayer(l, d.maskHidden(d.linear(attn, pre+"self_attn.o_proj"))))

	h = d.rmsNorm(x, pre+"post_attention_layernorm.weight")
	d.tap(l, TapMLPNormOut, h)
	act := d.mlpActivation(l, h)
	d.tap(l, TapDownProjIn, act)
	x = Add(x, d.scaleLayer(l, d.maskHidden(d.linear(act, pre+"mlp.down_proj"))))

	d.tap(l, TapResidualOut, x)
	return x, keys, values
}

// scaleLayer multiplies a residual update of layer l by LayerMask[l], if set.
func (d *decoder) scaleLayer(l int, update *Node) *Node {
	if d.opts.LayerMask == nil {
		return update
	}
	m := d.cast(SliceAxis(d.opts.LayerMask, 0, AxisElem(l))) // [1]
	return Mul(update, Reshape(m, 1, 1, 1))
}

// mlpActivation is the down_proj input silu(gate(h)) * up(h) [batchSize, seqLen, ffn],
// FFNMask applied.
func (d *decoder) mlpActivation(l int, h *Node) *Node {
	pre := fmt.Sprintf("model.layers.%d.mlp.", l)
	gate := d.linear(h, pre+"gate_proj")
	up := d.linear(h, pre+"up_proj")
	act := Mul(Mul(gate, Sigmoid(gate)), up)
	if d.opts.FFNMask != nil {
		act = Mul(act, alignLast(d.cast(SliceAxis(d.opts.FFNMask, 0, AxisElem(l))), act.Rank()))
	}
	return act
}

// attention computes the o_proj input [batchSize, seqLen, numHeads*headDim] of layer l
// from the normed hidden states h, with grouped-query attention done as one
// batched product over (batch, kv head) for scores and one for values.
func (d *decoder) attention(l int, h *Node, rope ropeTables, bias *Node, cache *kvCache) (out, keys, values *Node) {
	cfg := d.cfg
	pre := fmt.Sprintf("model.layers.%d.self_attn.", l)
	batchSize, seqLen := h.Shape().Dim(0), h.Shape().Dim(1)
	numKV, group, headDim := cfg.NumKVHeads, cfg.NumHeads/cfg.NumKVHeads, cfg.HeadDim

	q := Reshape(d.linear(h, pre+"q_proj"), batchSize, seqLen, cfg.NumHeads, headDim) // [b, s, numHeads, headDim]
	k := Reshape(d.linear(h, pre+"k_proj"), batchSize, seqLen, numKV, headDim)        // [b, s, numKVHeads, headDim]
	v := Reshape(d.linear(h, pre+"v_proj"), batchSize, seqLen, numKV, headDim)        // [b, s, numKVHeads, headDim]
	q = applyRope(q, rope)
	k = applyRope(k, rope)

	// Query head h uses kv head h / group (HF repeat_kv order).
	keys = TransposeAllAxes(k, 0, 2, 1, 3)   // [b, kv, s, headDim]
	values = TransposeAllAxes(v, 0, 2, 1, 3) // [b, kv, s, headDim]
	if cache != nil {
		// Single new token: store it in its cache slot.
		keys, values = cache.store(cache.keys, keys), cache.store(cache.values, values)
	}

	decomposed := func() *Node {
		// Fold the 1/sqrt(headDim) scale into q (fewer multiplies than on the scores).
		qs := MulScalar(q, 1/math.Sqrt(float64(headDim)))
		q5 := TransposeAllAxes(Reshape(qs, batchSize, seqLen, numKV, group, headDim), 0, 2, 1, 3, 4) // [b, kv, s, g, headDim]
		// scores[b, kv, s, g, t] = q5 · keys, contracting headDim.
		scores := DotGeneral(q5, []int{4}, []int{0, 1}, keys, []int{3}, []int{0, 1})
		scores = Add(ConvertDType(scores, dtypes.Float32), bias)
		probs := d.cast(Softmax(scores, -1))
		// ctx[b, kv, s, g, headDim] = probs · values, contracting t.
		ctx := DotGeneral(probs, []int{4}, []int{0, 1}, values, []int{2}, []int{0, 1})
		if d.opts.HeadMask != nil {
			m := Reshape(d.cast(SliceAxis(d.opts.HeadMask, 0, AxisElem(l))), 1, numKV, 1, group, 1)
			ctx = Mul(ctx, m)
		}
		return Reshape(TransposeAllAxes(ctx, 0, 2, 1, 3, 4), batchSize, seqLen, cfg.NumHeads*headDim)
	}
	caps := h.Graph().Backend().Capabilities().Operations
	if cache != nil || !d.opts.FusedAttention || !caps[compute.OpTypeFusedScaledDotProductAttention] {
		return decomposed(), keys, values
	}
	fused := func() *Node {
		options := &compute.ScaledDotProductAttentionConfig{Scale: 1 / math.Sqrt(float64(headDim)), Causal: true}
		if d.seqLens != nil {
			options.QuerySeqLen = InternalBackendOutputs(d.seqLens)[0]
			options.KeyValueSeqLen = InternalBackendOutputs(d.seqLens)[0]
		}
		ctx, _ := BackendFusedScaledDotProductAttention(q, k, v, compute.AttentionAxesLayoutBSHD, options) // [b, s, numHeads, headDim]
		if d.opts.HeadMask != nil {
			ctx = Mul(ctx, Reshape(d.cast(SliceAxis(d.opts.HeadMask, 0, AxisElem(l))), 1, 1, cfg.NumHeads, 1))
		}
		return Reshape(ctx, batchSize, seqLen, cfg.NumHeads*headDim)
	}
	out, _ = InternalFusedOpCaller(fused, decomposed, !caps[compute.OpTypeFusedScaledDotProductAttentionVJP])
	return out, keys, values
}
