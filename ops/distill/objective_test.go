package distill

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/train"
)

// Tolerances of the model-level tests.
const (
	gradRelTol   = 1e-4 // chunked vs whole-sequence gradients, relative to the largest element
	alphaRelTol  = 1e-5
	identicalTol = 1e-6 // logits loss of a teacher distilled into its own copy
)

func tinyConfig(vocab, hidden, ffn, layers int, tied bool) *llm.Config {
	return &llm.Config{ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: vocab,
		Hidden: hidden, FFN: ffn, NumLayers: layers, NumHeads: 2, NumKVHeads: 1, HeadDim: 8, MaxPositions: 64,
		RMSNormEps: 1e-5, TieEmbeddings: tied, HiddenAct: "silu", RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"},
		TorchDType: "float32", InitializerRange: 0.2}
}

func tinyModel(t testing.TB, cfg *llm.Config, seed uint64) *llm.Model {
	t.Helper()
	m, err := llm.InitWeights(cfg, dtypes.Float32, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func cloneModel(t testing.TB, m *llm.Model) *llm.Model {
	t.Helper()
	c, err := m.Clone()
	if err != nil {
		t.Fatal(err)
	}
	cfg := *m.Config
	c.Config = &cfg
	return c
}

// tinyStore puts a teacher (seeds[0]) and a student (seeds[1]) built by
// tinyModel into one store (NewStore), with the projection initialised from
// seeds[2] when it is not 0.
func tinyStore(t testing.TB, tcfg, scfg *llm.Config, seeds [3]uint64) *model.Store {
	t.Helper()
	store, err := NewStore(tinyModel(t, tcfg, seeds[0]), tinyModel(t, scfg, seeds[1]))
	if err != nil {
		t.Fatal(err)
	}
	if seeds[2] != 0 {
		if err := CreateProjection(store, tcfg.Hidden, scfg.Hidden, nil, seeds[2]); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func randomBatch(r *rand.Rand, batchSize, seqLen, vocab int) *tensors.Tensor {
	ids := make([]int32, batchSize*seqLen)
	for i := range ids {
		ids[i] = int32(r.IntN(vocab))
	}
	return tensors.FromFlatDataAndDimensions(ids, batchSize, seqLen)
}

// studentVars returns the trainable variables of the store, sorted by path.
func studentVars(store *model.Store) []*model.Variable {
	var vs []*model.Variable
	for v := range store.IterVariables() {
		if v.Trainable {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Path() < vs[j].Path() })
	return vs
}

// lossAndGrads runs lossFn on batch and returns the loss, the metrics and
// the gradients of the loss with respect to every trainable variable.
func lossAndGrads(t *testing.T, be compute.Backend, store *model.Store, lossFn train.LossFn, batch *tensors.Tensor) (float64, map[string]float64, [][]float32) {
	t.Helper()
	vars := studentVars(store)
	var names []string
	exec, err := model.NewExec(be, store, func(_ *model.Scope, b *Node) []*Node {
		loss, metrics := lossFn(b.Graph(), store, b)
		nodes := make([]*Node, len(vars))
		for i, v := range vars {
			nodes[i] = v.NodeValue(b.Graph())
		}
		outs := append([]*Node{loss}, Gradient(loss, nodes...)...)
		names = names[:0]
		for k := range metrics {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			outs = append(outs, metrics[k])
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Exec(batch)
	if err != nil {
		t.Fatal(err)
	}
	grads := make([][]float32, len(vars))
	for i := range vars {
		grads[i] = tensors.MustCopyFlatData[float32](outs[1+i])
	}
	metrics := map[string]float64{}
	for i, k := range names {
		metrics[k] = float64(tensors.ToScalar[float32](outs[1+len(vars)+i]))
	}
	return float64(tensors.ToScalar[float32](outs[0])), metrics, grads
}

// TestChunkedEqualsWhole: the chunked logits loss (gradients taken inside the
// forward pass) gives the same loss, metrics and gradients as the
// whole-sequence loss, for tied and untied heads, with a CE term.
func TestChunkedEqualsWhole(t *testing.T) {
	be := testBackend(t)
	for _, tied := range []bool{true, false} {
		name := map[bool]string{true: "tied", false: "untied"}[tied]
		t.Run(name, func(t *testing.T) {
			tcfg, scfg := tinyConfig(40, 24, 48, 3, tied), tinyConfig(40, 16, 32, 2, tied)
			store := tinyStore(t, tcfg, scfg, [3]uint64{1, 2, 0})
			batch := randomBatch(rand.New(rand.NewPCG(9, 9)), 2, 10, 40)
			base := Loss{Logits: LogitsLoss{Kind: ForwardKL}, CEWeight: 0.5}
			whole, err := NewLossFn(tcfg, scfg, base)
			if err != nil {
				t.Fatal(err)
			}
			chunkedOpts := base
			chunkedOpts.ChunkSize = 3
			chunked, err := NewLossFn(tcfg, scfg, chunkedOpts)
			if err != nil {
				t.Fatal(err)
			}
			l1, m1, g1 := lossAndGrads(t, be, store, whole, batch)
			l2, m2, g2 := lossAndGrads(t, be, store, chunked, batch)
			if math.Abs(l1-l2) > equalLossTol*max(1, math.Abs(l1)) {
				t.Errorf("loss whole %g, chunked %g", l1, l2)
			}
			for k := range m1 {
				if math.Abs(m1[k]-m2[k]) > equalLossTol*max(1, math.Abs(m1[k])) {
					t.Errorf("metric %s: whole %g, chunked %g", k, m1[k], m2[k])
				}
			}
			vars := studentVars(store)
			for i := range g1 {
				scale := 0.0
				for _, v := range g1[i] {
					scale = max(scale, math.Abs(float64(v)))
				}
				if scale == 0 {
					t.Errorf("%s: zero gradient", vars[i].Path())
				}
				for j := range g1[i] {
					if d := math.Abs(float64(g1[i][j] - g2[i][j])); d > gradRelTol*scale {
						t.Errorf("%s[%d]: whole %g, chunked %g", vars[i].Path(), j, g1[i][j], g2[i][j])
						break
					}
				}
			}
			t.Logf("loss %.6f, metrics %v", l1, m1)
		})
	}
}

// TestAlpha: α = L_logits / L_is with both detached (so the total's gradient
// is ∇L_logits + α∇L_is), or the fixed value.
func TestAlpha(t *testing.T) {
	be := testBackend(t)
	tcfg, scfg := tinyConfig(32, 24, 48, 4, true), tinyConfig(32, 16, 32, 2, true)
	store := tinyStore(t, tcfg, scfg, [3]uint64{3, 4, 5})
	batch := randomBatch(rand.New(rand.NewPCG(1, 1)), 2, 8, 32)
	pairs, err := ParseLayerMap("default", scfg.NumLayers, tcfg.NumLayers)
	if err != nil {
		t.Fatal(err)
	}
	// Depth fraction: student layer 0 of 2 ↔ teacher layer 1 of 4.
	if len(pairs) != 1 || pairs[0] != (LayerPair{0, 1}) {
		t.Errorf("default map for 2 → 4 layers = %v, want [{0 1}]", pairs)
	}
	mk := func(o Loss) train.LossFn {
		f, err := NewLossFn(tcfg, scfg, o)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	dyn := Loss{Logits: LogitsLoss{Kind: ForwardKL}, Intermediate: pairs, EmbeddingLoss: true}
	loss, m, gTotal := lossAndGrads(t, be, store, mk(dyn), batch)
	alpha := m[MetricAlpha]
	if want := m[MetricLogits] / m[MetricIS]; math.Abs(alpha-want) > alphaRelTol*want {
		t.Errorf("alpha %g, want L_logits/L_is = %g", alpha, want)
	}
	if want := m[MetricLogits] + alpha*m[MetricIS]; math.Abs(loss-want) > alphaRelTol*want {
		t.Errorf("total %g, want %g", loss, want)
	}
	// Gradient: ∇total = ∇L_logits + α∇L_is (α detached).
	_, _, gLogits := lossAndGrads(t, be, store, mk(Loss{Logits: LogitsLoss{Kind: ForwardKL}}), batch)
	isOnly := dyn
	isOnly.Alpha = alpha // fixed α: total = L_logits + α L_is
	lossFixed, mFixed, gFixed := lossAndGrads(t, be, store, mk(isOnly), batch)
	if math.Abs(lossFixed-loss) > alphaRelTol*loss || mFixed[MetricAlpha] != float64(float32(alpha)) {
		t.Errorf("fixed α = %g: total %g (dynamic %g), reported α %g", alpha, lossFixed, loss, mFixed[MetricAlpha])
	}
	for i := range gTotal {
		scale := 0.0
		for _, v := range gTotal[i] {
			scale = max(scale, math.Abs(float64(v)))
		}
		for j := range gTotal[i] {
			if d := math.Abs(float64(gTotal[i][j] - gFixed[i][j])); d > gradRelTol*scale {
				t.Fatalf("variable %d[%d]: dynamic-α gradient %g ≠ fixed-α gradient %g (α not detached?)", i, j, gTotal[i][j], gFixed[i][j])
			}
		}
	}
	// The projection only gets gradient from L_is; the logits-only loss gives it none.
	vars := studentVars(store)
	for i, v := range vars {
		if strings.HasPrefix(v.Path(), ProjectionScope) && !allZero(gLogits[i]) {
			t.Errorf("%s has a gradient from the logits-only loss", v.Path())
		}
	}
}

// TestIdenticalCopyStaysAtZero: a teacher distilled into an identical copy
// has zero logits loss and an exactly zero gradient, so AdamW (without weight
// decay) leaves it there step after step, for every divergence. With an
// identity projection the intermediate term starts at 0 as well (it is not
// trained here: the ~1e-8 rounding noise of 1 − cos near cos = 1 is
// amplified by Adam's normalization to full-size steps).
func TestIdenticalCopyStaysAtZero(t *testing.T) {
	be := testBackend(t)
	cfg := tinyConfig(48, 16, 32, 2, false)
	teacher := tinyModel(t, cfg, 7)
	for _, kind := range []Divergence{ForwardKL, ReverseKL, JSD} {
		t.Run(string(kind), func(t *testing.T) {
			store, err := NewStore(teacher, cloneModel(t, teacher))
			if err != nil {
				t.Fatal(err)
			}
			lf, err := NewLossFn(cfg, cfg, Loss{Logits: LogitsLoss{Kind: kind}})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := train.New(be, store, lf, train.Config{Schedule: train.Schedule{PeakLR: 1e-3, MinLR: 1e-4, WarmupSteps: 1, TotalSteps: 4},
				AdamW: train.AdamW{Beta1: 0.9, Beta2: 0.95, Eps: 1e-8}, ClipNorm: 1}) // no weight decay: it alone would move the copy
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(2, 2))
			for step := 0; step < 4; step++ {
				res, err := tr.TrainStep([]*tensors.Tensor{randomBatch(r, 2, 12, cfg.VocabSize)})
				if err != nil {
					t.Fatal(err)
				}
				if res.Metrics[MetricLogits] > identicalTol || res.Loss > identicalTol || res.GradNorm != 0 {
					t.Errorf("step %d: loss %g, logits %g, grad norm %g (want 0)", step, res.Loss, res.Metrics[MetricLogits], res.GradNorm)
				}
				if res.Metrics[MetricCE] < 1 {
					t.Errorf("step %d: CE %g of a random model is implausibly low", step, res.Metrics[MetricCE])
				}
			}
		})
	}
	t.Run("intermediate", func(t *testing.T) {
		store, err := NewStore(teacher, cloneModel(t, teacher))
		if err != nil {
			t.Fatal(err)
		}
		kept := make([]int, cfg.Hidden)
		for i := range kept {
			kept[i] = i
		}
		if err := CreateProjection(store, cfg.Hidden, cfg.Hidden, kept, 0); err != nil {
			t.Fatal(err)
		}
		lf, err := NewLossFn(cfg, cfg, Loss{Intermediate: DefaultLayerMap(2, 2), EmbeddingLoss: true})
		if err != nil {
			t.Fatal(err)
		}
		loss, m, _ := lossAndGrads(t, be, store, lf, randomBatch(rand.New(rand.NewPCG(3, 3)), 2, 12, cfg.VocabSize))
		if loss > identicalTol || m[MetricIS] > identicalTol || m[MetricLogits] > identicalTol {
			t.Errorf("identical copy, identity projection: loss %g, metrics %v (want 0)", loss, m)
		}
	})
}

// TestVocabPaddingCut: a teacher with padding rows beyond the student's
// vocabulary is compared over the shared ids only; without VocabUsed the
// sizes must match and the error names both.
func TestVocabPaddingCut(t *testing.T) {
	be := testBackend(t)
	scfg := tinyConfig(40, 16, 32, 2, true)
	student := tinyModel(t, scfg, 11)
	tcfg := *scfg
	tcfg.VocabSize = 48
	teacher := cloneModel(t, student)
	teacher.Config = &tcfg
	emb := tensors.MustCopyFlatData[float32](student.Weights[llm.EmbedTokensName])
	r := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < (48-40)*scfg.Hidden; i++ {
		emb = append(emb, float32(r.NormFloat64()*3)) // padding rows: large random values
	}
	teacher.Weights[llm.EmbedTokensName] = tensors.FromFlatDataAndDimensions(emb, 48, scfg.Hidden)
	if _, err := NewLossFn(&tcfg, scfg, Loss{}); err == nil || !strings.Contains(err.Error(), "48") || !strings.Contains(err.Error(), "40") {
		t.Errorf("differing vocab without VocabUsed: error %v, want one naming 48 and 40", err)
	}
	store, err := NewStore(teacher, student)
	if err != nil {
		t.Fatal(err)
	}
	lf, err := NewLossFn(&tcfg, scfg, Loss{VocabUsed: 40})
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ := lossAndGrads(t, be, store, lf, randomBatch(r, 2, 8, 40))
	if m[MetricLogits] > identicalTol {
		t.Errorf("logits loss with padding rows cut = %g, want 0 (same weights on the shared ids)", m[MetricLogits])
	}
}

// TestMaskedPositionsExcluded: positions holding PadID do not count.
func TestMaskedPositionsExcluded(t *testing.T) {
	be := testBackend(t)
	tcfg, scfg := tinyConfig(32, 16, 32, 2, true), tinyConfig(32, 16, 32, 2, true)
	store := tinyStore(t, tcfg, scfg, [3]uint64{1, 2, 0})
	padZero := 0
	// Same prefix, different padded tail: with right padding (causal model)
	// the loss over the unpadded prefix is the same.
	a := []int32{5, 6, 7, 8, 0, 0, 0, 0}
	b := []int32{5, 6, 7, 8, 0, 0, 0, 0}
	lf, err := NewLossFn(tcfg, scfg, Loss{PadID: &padZero, CEWeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	lfPrefix, err := NewLossFn(tcfg, scfg, Loss{CEWeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, m1, _ := lossAndGrads(t, be, store, lf, tensors.FromFlatDataAndDimensions(append(a, b...), 2, 8))
	_, m2, _ := lossAndGrads(t, be, store, lfPrefix, tensors.FromFlatDataAndDimensions([]int32{5, 6, 7, 8, 5, 6, 7, 8}, 2, 4))
	for _, k := range []string{MetricLogits, MetricCE} {
		if math.Abs(m1[k]-m2[k]) > equalLossTol {
			t.Errorf("%s: masked %g, prefix only %g", k, m1[k], m2[k])
		}
	}
}

// TestBFloat16Compute: with both forwards in bfloat16 the losses stay
// float32, finite and close to the float32 ones.
func TestBFloat16Compute(t *testing.T) {
	const bf16LossTol = 5e-2 // relative
	be := testBackend(t)
	tcfg, scfg := tinyConfig(40, 24, 48, 3, true), tinyConfig(40, 16, 32, 2, true)
	store := tinyStore(t, tcfg, scfg, [3]uint64{1, 2, 1})
	batch := randomBatch(rand.New(rand.NewPCG(6, 6)), 2, 10, 40)
	var ref map[string]float64
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		lf, err := NewLossFn(tcfg, scfg, Loss{Intermediate: DefaultLayerMap(2, 3), CEWeight: 0.1, ChunkSize: 4, DType: dt})
		if err != nil {
			t.Fatal(err)
		}
		_, m, grads := lossAndGrads(t, be, store, lf, batch)
		for i, g := range grads {
			for _, v := range g {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s: non-finite gradient in variable %d", dt, i)
				}
			}
		}
		if ref == nil {
			ref = m
			continue
		}
		for k, v := range m {
			if math.Abs(v-ref[k]) > bf16LossTol*max(math.Abs(ref[k]), 0.1) {
				t.Errorf("%s: %s = %g, float32 %g", dt, k, v, ref[k])
			}
		}
	}
}
