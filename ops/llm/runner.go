package llm

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Runner runs a model with host tensors in and out: forward passes (logits,
// hidden states) and KV-cache generation. Graphs are compiled once per input
// shape and reused. A Runner is safe for concurrent use.
type Runner struct {
	cfg     *Config
	backend compute.Backend
	store   *model.Store
	scope   string
	dtype   dtypes.DType

	mu          sync.Mutex
	forwardExec *model.Exec
	prefill     map[prefillKey]*model.Exec
	decode      map[tokenPick]*model.Exec
}

// RunOutputs are the host results of Runner.Forward, all float32.
type RunOutputs struct {
	Logits       *tensors.Tensor   // [batchSize, seqLen, vocab]
	Hidden       []*tensors.Tensor // numLayers+1 × [batchSize, seqLen, hidden] (Outputs.Hidden semantics)
	LastLayerRaw *tensors.Tensor   // [batchSize, seqLen, hidden]
}

// NewRunner puts m's weights in a new store (shared, not copied) and returns
// a Runner computing in float32.
func NewRunner(backend compute.Backend, m *Model) (*Runner, error) {
	if m == nil {
		return nil, errors.New("llm.NewRunner: nil model")
	}
	store := model.NewStore()
	if err := m.ToStore(store, DefaultScope); err != nil {
		return nil, err
	}
	return NewRunnerFromStore(backend, m.Config, store, DefaultScope)
}

// NewRunnerFromStore runs the weights already held as variables under
// scopePath of store (see Model.ToStore); later changes of the variables'
// values (e.g. by training) are seen by the next call.
func NewRunnerFromStore(backend compute.Backend, cfg *Config, store *model.Store, scopePath string) (*Runner, error) {
	if backend == nil {
		return nil, errors.New("llm.NewRunner: nil backend")
	}
	if err := checkForwardConfig(cfg); err != nil {
		return nil, err
	}
	for _, name := range []string{"model.embed_tokens.weight", "model.norm.weight"} {
		if store.GetVariable(variablePath(scopePath, name)) == nil {
			return nil, fmt.Errorf("llm.NewRunner: store has no weight %q under scope %q", name, scopePath)
		}
	}
	return &Runner{cfg: cfg, backend: backend, store: store, scope: scopePath, dtype: dtypes.Float32,
		prefill: map[prefillKey]*model.Exec{}, decode: map[tokenPick]*model.Exec{}}, nil
}

// WithDType sets the compute dtype (default float32; outputs stay float32).
// Graphs compiled for another dtype are released.
func (r *Runner) WithDType(dtype dtypes.DType) *Runner {
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float32
	}
	r.mu.Lock()
	same := r.dtype == dtype
	r.mu.Unlock()
	if !same {
		r.Close()
		r.mu.Lock()
		r.dtype = dtype
		r.mu.Unlock()
	}
	return r
}

// Config returns the model's config.
func (r *Runner) Config() *Config { return r.cfg }

// Close releases the compiled graphs (not the store's weights).
func (r *Runner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range append(append([]*model.Exec{r.forwardExec}, mapValues(r.decode)...), mapValues(r.prefill)...) {
		if e != nil {
			e.Finalize()
		}
	}
	r.forwardExec, r.decode, r.prefill = nil, map[tokenPick]*model.Exec{}, map[prefillKey]*model.Exec{}
}

func mapValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (r *Runner) params(g *Graph) ParamFn { return StoreParams(g, r.store, r.scope) }

// checkIDs validates token ids against the vocabulary.
func (r *Runner) checkIDs(what string, ids []int32) error {
	for i, id := range ids {
		if id < 0 || int(id) >= r.cfg.VocabSize {
			return fmt.Errorf("llm: %s: token id %d at index %d is outside the vocabulary [0, %d)", what, id, i, r.cfg.VocabSize)
		}
	}
	return nil
}

// Forward runs ids [batchSize, seqLen] (int32) with an optional attention mask
// [batchSize, seqLen] (bool, false = right padding; nil = no padding).
func (r *Runner) Forward(ids, attentionMask *tensors.Tensor) (*RunOutputs, error) {
	if ids == nil || ids.Rank() != 2 || ids.DType() != dtypes.Int32 {
		return nil, fmt.Errorf("llm.Runner.Forward: input_ids must be int32 [batchSize, seqLen], got %v", shapeOf(ids))
	}
	if ids.Shape().Dim(1) == 0 || ids.Shape().Dim(0) == 0 {
		return nil, fmt.Errorf("llm.Runner.Forward: input_ids %s is empty", ids.Shape())
	}
	if err := r.checkIDs("input_ids", tensors.MustCopyFlatData[int32](ids)); err != nil {
		return nil, err
	}
	if attentionMask == nil {
		valid := make([]bool, ids.Shape().Size())
		for i := range valid {
			valid[i] = true
		}
		attentionMask = tensors.FromFlatDataAndDimensions(valid, ids.Shape().Dimensions...)
	} else if attentionMask.DType() != dtypes.Bool || !attentionMask.Shape().EqualDimensions(ids.Shape()) {
		return nil, fmt.Errorf("llm.Runner.Forward: attention mask must be bool %v like input_ids, got %s",
			ids.Shape().Dimensions, attentionMask.Shape())
	}
	exec, err := r.getForwardExec()
	if err != nil {
		return nil, err
	}
	res, err := exec.Exec(ids, attentionMask)
	if err != nil {
		return nil, fmt.Errorf("llm.Runner.Forward: %w", err)
	}
	return &RunOutputs{Logits: res[0], LastLayerRaw: res[1], Hidden: res[2:]}, nil
}

// Logits runs a batch of token sequences and returns float32 logits
// [batchSize, maxLen, vocab]. Rows may have different lengths: shorter rows are
// right-padded and their logits beyond their length are meaningless.
func (r *Runner) Logits(ids [][]int32) (*tensors.Tensor, error) {
	flat, mask, _, maxLen, err := r.padRows("ids", ids)
	if err != nil {
		return nil, err
	}
	out, err := r.Forward(tensors.FromFlatDataAndDimensions(flat, len(ids), maxLen),
		tensors.FromFlatDataAndDimensions(mask, len(ids), maxLen))
	if err != nil {
		return nil, err
	}
	for _, h := range append(out.Hidden, out.LastLayerRaw) {
		h.FinalizeAll()
	}
	return out.Logits, nil
}

// padRows right-pads rows with id 0; it returns the flat ids, the validity
// mask, the lengths and the max length.
func (r *Runner) padRows(what string, rows [][]int32) (flat []int32, mask []bool, lengths []int32, maxLen int, err error) {
	if len(rows) == 0 {
		return nil, nil, nil, 0, fmt.Errorf("llm: %s: no sequences", what)
	}
	for i, row := range rows {
		if len(row) == 0 {
			return nil, nil, nil, 0, fmt.Errorf("llm: %s: sequence %d is empty", what, i)
		}
		if err := r.checkIDs(fmt.Sprintf("%s[%d]", what, i), row); err != nil {
			return nil, nil, nil, 0, err
		}
		maxLen = max(maxLen, len(row))
	}
	flat = make([]int32, len(rows)*maxLen)
	mask = make([]bool, len(rows)*maxLen)
	lengths = make([]int32, len(rows))
	for i, row := range rows {
		copy(flat[i*maxLen:], row)
		for j := range row {
			mask[i*maxLen+j] = true
		}
		lengths[i] = int32(len(row))
	}
	return flat, mask, lengths, maxLen, nil
}

func (r *Runner) getForwardExec() (*model.Exec, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.forwardExec != nil {
		return r.forwardExec, nil
	}
	cfg, dtype := r.cfg, r.dtype
	exec, err := model.NewExec(r.backend, r.store, func(_ *model.Scope, g *Graph, inputs []*Node) []*Node {
		out := Forward(cfg, r.params(g), inputs[0], &ForwardOptions{AttentionMask: inputs[1], DType: dtype})
		res := []*Node{out.Logits, ConvertDType(out.LastLayerRaw, dtypes.Float32)}
		for _, h := range out.Hidden {
			res = append(res, ConvertDType(h, dtypes.Float32))
		}
		return res
	})
	if err != nil {
		return nil, err
	}
	r.forwardExec = exec
	return exec, nil
}

// Generate continues each prompt with up to opts.MaxNewTokens tokens using a
// KV cache, and returns prompt + new tokens per row. Prompts may have
// different lengths. Greedy when opts.Temperature ≤ 0, else sampled.
//
// Tokens are picked on the device (argmax, or sampleTokens with an RNG state
// kept on the device and seeded by opts.Seed) and fed straight back, so per
// step only the step and prompt-length scalars go up; the cache stays on the
// device and its buffers are donated to the step that overwrites them.
// Without StopTokens or StopWhen the ids are read back only at the end; with
// them, [batchSize] ids per step.
func (r *Runner) Generate(prompts [][]int32, opts GenerateOptions) ([][]int32, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	flat, _, lengths, promptLen, err := r.padRows("prompt", prompts)
	if err != nil {
		return nil, err
	}
	if err := r.checkGenerateSize(len(prompts), promptLen, opts.MaxNewTokens); err != nil {
		return nil, err
	}
	batchSize := len(prompts)
	// Round the padded prompt and cache lengths up to a multiple of
	// lengthBucket, so prompts of nearby lengths reuse compiled graphs (the
	// extra positions are masked out).
	if padded := roundUp(promptLen, lengthBucket); padded != promptLen {
		grown := make([]int32, batchSize*padded)
		for b := range batchSize {
			copy(grown[b*padded:], flat[b*promptLen:(b+1)*promptLen])
		}
		flat, promptLen = grown, padded
	}
	cacheLen := roundUp(promptLen+opts.MaxNewTokens, lengthBucket)
	pick := pickFor(opts)
	prefill, decode, err := r.getGenerateExecs(cacheLen, pick)
	if err != nil {
		return nil, err
	}
	var sampling []any // pickSample's inputs: RNG state, temperature, top-p
	if pick.kind == pickSample {
		state, err := RNGStateFromSeed(int64(opts.Seed))
		if err != nil {
			return nil, fmt.Errorf("llm.Generate: %w", err)
		}
		sampling = []any{state, float32(opts.Temperature), topPInput(opts.TopP)}
	}
	lengthsT := tensors.FromFlatDataAndDimensions(lengths, batchSize)
	if opts.Progress != nil {
		opts.Progress("prefill", 0, 1)
	}
	res, err := prefill.Exec(append([]any{tensors.FromFlatDataAndDimensions(flat, batchSize, promptLen), lengthsT}, sampling...)...)
	if err != nil {
		return nil, fmt.Errorf("llm.Generate: prompt pass: %w", err)
	}
	numCache := 2 * r.cfg.NumLayers
	next, cache := res[0], res[1:1+numCache] // next: ids [batchSize] int32
	if opts.Progress != nil {
		opts.Progress("prefill", 1, 1)
		if opts.MaxNewTokens > 1 {
			opts.Progress("decode", 0, opts.MaxNewTokens-1)
		}
	}
	if sampling != nil {
		sampling[0] = res[1+numCache] // the RNG state after this draw
	}
	defer func() {
		for _, c := range cache {
			c.FinalizeAll()
		}
		if sampling != nil {
			sampling[0].(*tensors.Tensor).FinalizeAll()
		}
	}()

	out := make([][]int32, batchSize)
	for b := range prompts {
		out[b] = slices.Clone(prompts[b])
	}
	finished := make([]bool, batchSize)
	readEachStep := len(opts.StopTokens) > 0 || opts.StopWhen != nil
	var steps []*tensors.Tensor // every step's ids, in order
	defer func() {
		for _, p := range steps {
			p.FinalizeAll()
		}
	}()
	for step := 0; ; step++ {
		steps = append(steps, next)
		allDone := step+1 == opts.MaxNewTokens
		if readEachStep {
			allDone = true
			for b, tok := range tensors.MustCopyFlatData[int32](next) {
				if finished[b] {
					continue
				}
				out[b] = append(out[b], tok)
				if slices.Contains(opts.StopTokens, int(tok)) || step+1 == opts.MaxNewTokens ||
					(opts.StopWhen != nil && opts.StopWhen(b, out[b][len(prompts[b]):])) {
					finished[b] = true
				}
				allDone = allDone && finished[b]
			}
		}
		if allDone {
			break
		}
		// Rows already finished get tokens too (they are ignored): shapes stay static.
		args := append([]any{next, lengthsT, int32(step), int32(promptLen)}, sampling...)
		for _, c := range cache {
			donated, err := DonateTensorBuffer(c, r.backend, 0)
			if err != nil {
				return nil, fmt.Errorf("llm.Generate: step %d: %w", step, err)
			}
			args = append(args, donated)
		}
		cache = nil // donated: the step's outputs replace them
		res, err := decode.Exec(args...)
		if err != nil {
			return nil, fmt.Errorf("llm.Generate: step %d: %w", step, err)
		}
		next, cache = res[0], res[1:1+numCache]
		if sampling != nil {
			sampling[0].(*tensors.Tensor).FinalizeAll()
			sampling[0] = res[1+numCache]
		}
		if opts.Progress != nil {
			opts.Progress("decode", step+1, opts.MaxNewTokens-1)
		}
	}
	if !readEachStep {
		for _, ids := range steps {
			for b, tok := range tensors.MustCopyFlatData[int32](ids) {
				out[b] = append(out[b], tok)
			}
		}
	}
	// Tokens are chosen on the device, so the logits never reach the host:
	// one float32 forward over the generated rows finds a NaN/Inf and the
	// first place it appears (weights are also checked at load).
	if opts.SkipFiniteCheck {
		return out, nil
	}
	if where := r.locateNonFinite(out); where != "" {
		return nil, fmt.Errorf("llm.Generate: logits are not finite (%w): the first non-finite activations are in %s", ErrNonFinite, where)
	}
	return out, nil
}

// prefillKey identifies a compiled prompt pass.
type prefillKey struct {
	cacheLen int
	pick     tokenPick
}

// getGenerateExecs returns the prompt pass for cacheLen and the decode step,
// both returning pick's next-token output. The decode step compiles once per
// (batch size, cache length) — the step and prompt length are inputs.
func (r *Runner) getGenerateExecs(cacheLen int, pick tokenPick) (prefill, decode *model.Exec, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, dtype, np := r.cfg, r.dtype, pick.numInputs()
	if r.decode[pick] == nil {
		r.decode[pick], err = model.NewExec(r.backend, r.store, func(_ *model.Scope, g *Graph, inputs []*Node) []*Node {
			return decodeGraph(cfg, r.params(g), inputs[0], inputs[1], inputs[2], inputs[3], inputs[4+np:], dtype, pick, inputs[4:4+np])
		})
		if err != nil {
			return nil, nil, err
		}
	}
	key := prefillKey{cacheLen, pick}
	if r.prefill[key] == nil {
		if len(r.prefill) >= maxPrefillExecs { // bound the compiled-graph cache
			for _, e := range r.prefill {
				e.Finalize()
			}
			r.prefill = map[prefillKey]*model.Exec{}
		}
		r.prefill[key], err = model.NewExec(r.backend, r.store, func(_ *model.Scope, g *Graph, inputs []*Node) []*Node {
			return prefillGraph(cfg, r.params(g), inputs[0], inputs[1], cacheLen, dtype, pick, inputs[2:2+np])
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return r.prefill[key], r.decode[pick], nil
}

// lengthBucket is the granularity of the prompt and KV-cache lengths Generate compiles for.
const lengthBucket = 16

// maxPrefillExecs bounds how many prompt-pass graphs (one per cache length) a Runner keeps.
const maxPrefillExecs = 8

func roundUp(n, multiple int) int { return (n + multiple - 1) / multiple * multiple }

func shapeOf(t *tensors.Tensor) any {
	if t == nil {
		return "nil"
	}
	return t.Shape()
}
