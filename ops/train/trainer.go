package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// LossFn builds the scalar float32 loss of one micro-batch.
//
// batch is the micro-batch of token ids, [batchSize, seqLen] int32. The
// function reads its weights from store (e.g. llm.StoreParams(g, store,
// "/model")); every variable of store marked Trainable (outside OptimizerScope)
// is updated by the Trainer, every other variable is frozen (a teacher under
// "/teacher" with Trainable = false, for instance). metrics are optional
// extra scalar float32 nodes reported per step (averaged over the
// micro-batches of an update), e.g. "loss_logits", "loss_is", "alpha".
//
// Training graphs have store.IsTraining(g) true, evaluation graphs false.
// Random numbers should come from store.RandomNormal/RandomUniform (seed the
// store with SetRNGStateFromSeed before New): their state is checkpointed and
// evaluation does not advance it, so resumed runs stay bit-exact.
//
// The compute dtype is the LossFn's business: cast the float32 master
// weights to bfloat16 inside the graph if wanted; the loss must be float32.
type LossFn func(g *graph.Graph, store *model.Store, batch *graph.Node) (loss *graph.Node, metrics map[string]*graph.Node)

// OptimizerScope is the store scope holding the trainer's own state (AdamW
// moments, gradient accumulators). Variables there are never trained.
const OptimizerScope = "/train"

// AdamW holds the AdamW hyperparameters (decoupled weight decay, as in
// PyTorch's torch.optim.AdamW).
type AdamW struct {
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Eps         float64 `json:"eps"`
	WeightDecay float64 `json:"weight_decay"`
}

// DefaultAdamW returns β1 0.9, β2 0.95, ε 1e-8, weight decay 0.1 (the usual
// LLM pre-training values; Megatron's defaults for Minitron distillation).
func DefaultAdamW() AdamW { return AdamW{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1} }

// Config configures a Trainer.
type Config struct {
	Schedule   Schedule
	AdamW      AdamW
	ClipNorm   float64 // global gradient-norm clip; 0 disables clipping
	AccumSteps int     // micro-batches per optimizer update (default 1)
	// NoDecay says which variables get no weight decay, given the variable
	// name (the last element of its path, an HF tensor name for LLM weights).
	// Default NoDecayByName.
	NoDecay func(name string) bool
}

// NoDecayByName excludes norms and biases from weight decay by their Hugging
// Face names: "*.bias", and "*norm*.weight" (input_layernorm, post_attention_
// layernorm, model.norm, q_norm/k_norm).
func NoDecayByName(name string) bool {
	if strings.HasSuffix(name, ".bias") || name == "bias" {
		return true
	}
	if strings.HasSuffix(name, ".weight") && strings.Contains(name, "norm") {
		return true
	}
	return false
}

// clipEps is added to the gradient norm before dividing, as in PyTorch's
// clip_grad_norm_.
const clipEps = 1e-6

// ErrNonFinite is returned (wrapped) when a step's loss or gradient norm is
// NaN or ±Inf. The weights and optimizer moments are left unchanged by that
// step.
var ErrNonFinite = errors.New("non-finite loss or gradient norm")

// StepResult is what one optimizer update reports.
type StepResult struct {
	Step     int                // 0-based index of this update
	LR       float64            // learning rate used
	Loss     float64            // mean loss over the micro-batches
	GradNorm float64            // global gradient norm before clipping
	Tokens   int64              // token ids consumed by this update (all micro-batches)
	Metrics  map[string]float64 // LossFn metrics, averaged over micro-batches
}

// Trainer owns the trainable variables of a store and compiles the update
// step. It is not safe for concurrent use.
type Trainer struct {
	backend compute.Backend
	store   *model.Store
	loss    LossFn
	cfg     Config

	params []*model.Variable // trainable, sorted by path
	decay  []bool            // per param: weight decay applies
	m, v   []*model.Variable // AdamW moments
	acc    []*model.Variable // gradient accumulators (AccumSteps > 1 only)

	metricNames []string // sorted; set while building graphs
	updateExec  *model.Exec
	accumExec   *model.Exec
	evalExec    *model.Exec

	step          int     // updates done
	tokens        int64   // tokens consumed
	elapsedBefore float64 // seconds trained before the restored checkpoint

	failCheckpoint func() error // tests: simulate a failed checkpoint write
}

// New creates a Trainer for the trainable variables already in store (they
// must exist and hold float32 values; create them e.g. with
// llm.(*Model).ToStore). The AdamW moments are created under OptimizerScope
// as zeros, unless present (then kept, e.g. restored by a checkpoint).
func New(backend compute.Backend, store *model.Store, loss LossFn, cfg Config) (*Trainer, error) {
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, err
	}
	if cfg.AccumSteps <= 0 {
		cfg.AccumSteps = 1
	}
	if cfg.NoDecay == nil {
		cfg.NoDecay = NoDecayByName
	}
	if cfg.ClipNorm < 0 {
		return nil, fmt.Errorf("train: clip norm must be >= 0, got %g", cfg.ClipNorm)
	}
	a := cfg.AdamW
	if !(a.Beta1 >= 0 && a.Beta1 < 1 && a.Beta2 >= 0 && a.Beta2 < 1 && a.Eps > 0 && a.WeightDecay >= 0) {
		return nil, fmt.Errorf("train: invalid AdamW settings %+v (need 0 ≤ β < 1, ε > 0, weight decay ≥ 0)", a)
	}
	t := &Trainer{backend: backend, store: store, loss: loss, cfg: cfg}
	for v := range store.IterVariables() {
		if v.Trainable && !strings.HasPrefix(v.Path(), OptimizerScope+"/") {
			t.params = append(t.params, v)
		}
	}
	if len(t.params) == 0 {
		return nil, fmt.Errorf("train: the store has no trainable variables")
	}
	sort.Slice(t.params, func(i, j int) bool { return t.params[i].Path() < t.params[j].Path() })
	var err error
	for _, p := range t.params {
		if p.DType() != dtypes.Float32 {
			return nil, fmt.Errorf("train: trainable variable %s is %s; master weights must be float32", p.Path(), p.DType())
		}
		t.decay = append(t.decay, !cfg.NoDecay(p.Name()))
		var mv, vv *model.Variable
		if mv, err = stateVariable(store, "adam_m", p); err != nil {
			return nil, err
		}
		if vv, err = stateVariable(store, "adam_v", p); err != nil {
			return nil, err
		}
		t.m, t.v = append(t.m, mv), append(t.v, vv)
		if cfg.AccumSteps > 1 {
			av, err := stateVariable(store, "grad_acc", p)
			if err != nil {
				return nil, err
			}
			t.acc = append(t.acc, av)
		}
	}
	if t.updateExec, err = model.NewExec(backend, store, t.buildUpdate); err != nil {
		return nil, err
	}
	if t.accumExec, err = model.NewExec(backend, store, t.buildAccumulate); err != nil {
		return nil, err
	}
	if t.evalExec, err = model.NewExec(backend, store, t.buildEval); err != nil {
		return nil, err
	}
	return t, nil
}

// stateVariable returns (creating it as zeros if missing) the optimizer
// state variable OptimizerScope/kind/<param path>, non-trainable.
func stateVariable(store *model.Store, kind string, p *model.Variable) (*model.Variable, error) {
	path := OptimizerScope + "/" + kind + p.Path()
	if v := store.GetVariable(path); v != nil {
		if !v.Shape().Equal(p.Shape()) {
			return nil, fmt.Errorf("train: optimizer state %s has shape %s, parameter has %s", path, v.Shape(), p.Shape())
		}
		v.Trainable = false
		return v, nil
	}
	v, err := store.CreateVariable(path, tensors.FromShape(p.Shape()))
	if err != nil {
		return nil, fmt.Errorf("train: creating %s: %w", path, err)
	}
	v.Trainable = false
	return v, nil
}

// Step returns the number of optimizer updates done so far.
func (t *Trainer) Step() int { return t.step }

// Tokens returns the number of token ids consumed by training so far.
func (t *Trainer) Tokens() int64 { return t.tokens }

// Config returns the trainer's configuration (defaults filled in).
func (t *Trainer) Config() Config { return t.cfg }

// Store returns the trainer's store.
func (t *Trainer) Store() *model.Store { return t.store }

// Params returns the trainable variables, sorted by path.
func (t *Trainer) Params() []*model.Variable { return slices.Clone(t.params) }

// callLoss builds the loss and records the metric names (sorted).
func (t *Trainer) callLoss(g *graph.Graph, batch *graph.Node) (*graph.Node, []*graph.Node) {
	loss, metrics := t.loss(g, t.store, batch)
	if loss.Rank() != 0 || loss.DType() != dtypes.Float32 {
		panic(fmt.Sprintf("train: the loss must be a float32 scalar, got %s", loss.Shape()))
	}
	names := make([]string, 0, len(metrics))
	for k := range metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	t.metricNames = names
	outs := make([]*graph.Node, len(names))
	for i, k := range names {
		outs[i] = graph.ConvertDType(metrics[k], dtypes.Float32)
	}
	return loss, outs
}

// paramNodes returns the graph values of every trainable variable.
func (t *Trainer) paramNodes(g *graph.Graph) []*graph.Node {
	nodes := make([]*graph.Node, len(t.params))
	for i, p := range t.params {
		nodes[i] = p.NodeValue(g)
	}
	return nodes
}

// rngVariable returns the store's RNG state variable, or nil if the store has none.
func (t *Trainer) rngVariable() *model.Variable {
	return t.store.GetVariable(model.JoinPath("/", model.RNGStateVariableName))
}

// buildEval: batch → loss, metrics... Evaluation does not advance the
// store's RNG (validation must not change the training run), and the graph
// is marked as not training (store.IsTraining(g) is false, e.g. no dropout).
func (t *Trainer) buildEval(_ *model.Scope, batch *graph.Node) []*graph.Node {
	g := batch.Graph()
	t.store.SetTraining(g, false)
	var rng *model.Variable
	var rngBefore *graph.Node
	if rng = t.rngVariable(); rng != nil {
		rngBefore = rng.NodeValue(g)
	}
	loss, metrics := t.callLoss(g, batch)
	if rng != nil {
		rng.SetNodeValue(rngBefore)
	}
	return append([]*graph.Node{loss}, metrics...)
}

// buildAccumulate: batch → loss, metrics...; adds the gradients to the
// accumulators.
func (t *Trainer) buildAccumulate(_ *model.Scope, batch *graph.Node) []*graph.Node {
	g := batch.Graph()
	t.store.SetTraining(g, true)
	params := t.paramNodes(g)
	loss, metrics := t.callLoss(g, batch)
	grads := graph.Gradient(loss, params...)
	for i, a := range t.acc {
		a.SetNodeValue(graph.Add(a.NodeValue(g), grads[i]))
	}
	return append([]*graph.Node{loss}, metrics...)
}

// buildUpdate: (batch, stepSize, epsHat, decayFactor) → loss, gradNorm,
// metrics...; adds the last micro-batch's gradient to the accumulated ones,
// averages, clips, and applies AdamW. When the loss or the norm is not finite
// every variable keeps its value.
//
// AdamW (PyTorch semantics), t = step+1, bc1 = 1−β1^t, bc2 = 1−β2^t, clip
// scale s = min(1, maxNorm/(norm+1e-6)):
//
//	m ← β1 m + (1−β1) s g;  v ← β2 v + (1−β2) s² g²
//	p ← p · (1 − lr·wd)  (decayed parameters only)
//	p ← p − lr · (m/bc1) / (sqrt(v/bc2) + ε)
//
// computed as p ← p·decayFactor − stepSize · m / (sqrt(v) + epsHat) with the
// host-computed scalars stepSize = lr·sqrt(bc2)/bc1 and epsHat = ε·sqrt(bc2)
// (the same value: numerator and denominator multiplied by sqrt(bc2)), the
// clip scale folded into the moment coefficients, and the non-finite guard
// applied to scalars and one Where on the gradient: 14 elementwise passes
// over each decayed parameter (13 otherwise) instead of 19, plus the two of
// the gradient norm. On the pure-Go backend, which runs every op as its own
// loop over memory, the update's cost is the number of passes
// (docs/performance.md).
func (t *Trainer) buildUpdate(_ *model.Scope, batch, stepSize, epsHat, decayFactor *graph.Node) []*graph.Node {
	g := batch.Graph()
	t.store.SetTraining(g, true)
	params := t.paramNodes(g)
	loss, metrics := t.callLoss(g, batch)
	grads := graph.Gradient(loss, params...)
	if len(t.acc) > 0 {
		inv := graph.Scalar(g, dtypes.Float32, 1.0/float64(t.cfg.AccumSteps))
		for i, a := range t.acc {
			av := a.NodeValue(g)
			grads[i] = graph.Mul(graph.Add(av, grads[i]), inv)
			a.SetNodeValue(graph.ZerosLike(av))
		}
	}
	sumSq := graph.ScalarZero(g, dtypes.Float32)
	for _, gr := range grads {
		sumSq = graph.Add(sumSq, graph.ReduceAllSum(graph.Square(gr)))
	}
	norm := graph.Sqrt(sumSq)
	one := graph.ScalarOne(g, dtypes.Float32)
	zero := graph.ScalarZero(g, dtypes.Float32)
	scale := one
	if t.cfg.ClipNorm > 0 {
		maxNorm := graph.Scalar(g, dtypes.Float32, t.cfg.ClipNorm)
		scale = graph.Min(one, graph.Div(maxNorm, graph.Add(norm, graph.Scalar(g, dtypes.Float32, clipEps))))
	}
	ok := graph.LogicalAnd(graph.IsFinite(loss), graph.IsFinite(norm))
	// Scalars of the update; on a non-finite step they make it the identity
	// (moments kept: β 1, coefficient 0; parameters: decay 1, step 0).
	guard := func(x, identity *graph.Node) *graph.Node { return graph.Where(ok, x, identity) }
	a := t.cfg.AdamW
	b1 := guard(graph.Scalar(g, dtypes.Float32, a.Beta1), one)
	b2 := guard(graph.Scalar(g, dtypes.Float32, a.Beta2), one)
	c1 := guard(graph.Mul(graph.Scalar(g, dtypes.Float32, 1-a.Beta1), scale), zero)
	c2 := guard(graph.Mul(graph.Scalar(g, dtypes.Float32, 1-a.Beta2), graph.Square(scale)), zero)
	stepSize = guard(stepSize, zero)
	decayFactor = guard(decayFactor, one)
	for i, p := range params {
		gr := graph.Where(ok, grads[i], graph.ZerosLike(grads[i])) // a NaN gradient times 0 would stay NaN
		m1 := graph.Add(graph.Mul(t.m[i].NodeValue(g), b1), graph.Mul(gr, c1))
		v1 := graph.Add(graph.Mul(t.v[i].NodeValue(g), b2), graph.Mul(graph.Square(gr), c2))
		update := graph.Div(graph.Mul(m1, stepSize), graph.Add(graph.Sqrt(v1), epsHat))
		p1 := p
		if t.decay[i] && a.WeightDecay > 0 {
			p1 = graph.Mul(p1, decayFactor)
		}
		t.params[i].SetNodeValue(graph.Sub(p1, update))
		t.m[i].SetNodeValue(m1)
		t.v[i].SetNodeValue(v1)
	}
	return append([]*graph.Node{loss, norm}, metrics...)
}

// updateScalars are buildUpdate's host-computed inputs for update number
// step (0-based) at learning rate lr, in float64 before the float32 cast.
func (t *Trainer) updateScalars(step int, lr float64) (stepSize, epsHat, decayFactor float32) {
	a := t.cfg.AdamW
	n := float64(step + 1)
	bc1 := 1 - math.Pow(a.Beta1, n)
	sqrtBC2 := math.Sqrt(1 - math.Pow(a.Beta2, n))
	return float32(lr * sqrtBC2 / bc1), float32(a.Eps * sqrtBC2), float32(1 - lr*a.WeightDecay)
}

// TrainStep runs one optimizer update over len(micro) == AccumSteps
// micro-batches of token ids ([batchSize, seqLen] int32 each). The gradient
// is the mean of the micro-batch gradients (each micro-batch loss is itself a
// mean over its tokens). On a non-finite loss or gradient norm it returns an
// error wrapping ErrNonFinite, leaves weights and moments unchanged and does
// not advance the step.
func (t *Trainer) TrainStep(micro []*tensors.Tensor) (StepResult, error) {
	if len(micro) != t.cfg.AccumSteps {
		return StepResult{}, fmt.Errorf("train: step %d got %d micro-batches, want AccumSteps=%d", t.step, len(micro), t.cfg.AccumSteps)
	}
	res := StepResult{Step: t.step, LR: t.cfg.Schedule.LR(t.step), Metrics: map[string]float64{}}
	var sumLoss float64
	sums := map[string]float64{}
	finite := true
	add := func(outs []*tensors.Tensor) {
		l := float64(tensors.ToScalar[float32](outs[0]))
		if math.IsNaN(l) || math.IsInf(l, 0) {
			finite = false
		}
		sumLoss += l
		for i, name := range t.metricNames {
			sums[name] += float64(tensors.ToScalar[float32](outs[len(outs)-len(t.metricNames)+i]))
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
	for i, b := range micro {
		if b.DType() != dtypes.Int32 || b.Rank() != 2 {
			return res, fmt.Errorf("train: step %d micro-batch %d has shape %s, want [batchSize, seqLen] int32", t.step, i, b.Shape())
		}
		res.Tokens += int64(b.Size())
		if i < len(micro)-1 {
			outs, err := t.accumExec.Exec(b)
			if err != nil {
				return res, fmt.Errorf("train: step %d micro-batch %d: %w", t.step, i, err)
			}
			add(outs)
			continue
		}
		stepSize, epsHat, decayFactor := t.updateScalars(t.step, res.LR)
		outs, err := t.updateExec.Exec(b, stepSize, epsHat, decayFactor)
		if err != nil {
			return res, fmt.Errorf("train: step %d update: %w", t.step, err)
		}
		res.GradNorm = float64(tensors.ToScalar[float32](outs[1]))
		add(append(outs[:1:1], outs[2:]...))
		outs[1].FinalizeAll()
	}
	k := float64(len(micro))
	res.Loss = sumLoss / k
	for name, s := range sums {
		res.Metrics[name] = s / k
	}
	if !finite || math.IsNaN(res.GradNorm) || math.IsInf(res.GradNorm, 0) {
		return res, fmt.Errorf("train: step %d: loss %g, grad norm %g: %w", t.step, res.Loss, res.GradNorm, ErrNonFinite)
	}
	t.step++
	t.tokens += res.Tokens
	return res, nil
}

// EvalLoss returns the mean loss (and metrics) over batches, without
// updating anything. Each batch counts equally.
func (t *Trainer) EvalLoss(batches []*tensors.Tensor) (float64, map[string]float64, error) {
	if len(batches) == 0 {
		return 0, nil, fmt.Errorf("train: no validation batches")
	}
	var sum float64
	sums := map[string]float64{}
	for i, b := range batches {
		outs, err := t.evalExec.Exec(b)
		if err != nil {
			return 0, nil, fmt.Errorf("train: evaluating batch %d: %w", i, err)
		}
		sum += float64(tensors.ToScalar[float32](outs[0]))
		for j, name := range t.metricNames {
			sums[name] += float64(tensors.ToScalar[float32](outs[1+j]))
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
	k := float64(len(batches))
	for name := range sums {
		sums[name] /= k
	}
	return sum / k, sums, nil
}

// FreezeScope marks every variable under scopePath (e.g. "/teacher")
// non-trainable, so the Trainer leaves it alone (a distillation teacher). Call
// it before New. It returns the number of variables frozen.
func FreezeScope(store *model.Store, scopePath string) int {
	prefix := strings.TrimSuffix(scopePath, "/") + "/"
	n := 0
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), prefix) {
			v.Trainable = false
			n++
		}
	}
	return n
}
