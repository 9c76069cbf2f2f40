package train

import (
	"errors"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// adamTol is the tolerance of float32 graph AdamW vs. the float64 hand
// computation (relative to the parameter magnitude ~1).
const adamTol = 1e-6

// TestAdamWOneStep checks one update of two variables, one decayed and one
// not ("*.bias"), against AdamW computed by hand in float64.
func TestAdamWOneStep(t *testing.T) {
	store := model.NewStore()
	w0 := []float32{1, -2, 0.5}
	b0 := []float32{0.25, -0.75}
	cw := []float32{0.3, -1.2, 2} // loss = Σ cw·w + Σ cb·b²  ⇒ dL/dw = cw, dL/db = 2 cb b
	cb := []float32{1.5, -0.5}
	if _, err := store.CreateVariable("/m/w.weight", tensors.FromValue(w0)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateVariable("/m/x.bias", tensors.FromValue(b0)); err != nil {
		t.Fatal(err)
	}
	loss := func(g *graph.Graph, s *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		w := s.GetVariable("/m/w.weight").NodeValue(g)
		b := s.GetVariable("/m/x.bias").NodeValue(g)
		l := graph.Add(graph.ReduceAllSum(graph.Mul(w, graph.Const(g, cw))),
			graph.ReduceAllSum(graph.Mul(graph.Square(b), graph.Const(g, cb))))
		return l, nil
	}
	cfg := Config{
		Schedule: Schedule{PeakLR: 0.1, MinLR: 0.01, WarmupSteps: 2, TotalSteps: 10},
		AdamW:    AdamW{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.5},
	}
	tr, err := New(testBackend(t), store, loss, cfg)
	if err != nil {
		t.Fatal(err)
	}
	batch := tensors.FromValue([][]int32{{0, 1}})
	// Two steps, to exercise bias correction with non-zero moments.
	type state struct{ p, m, v []float64 }
	mk := func(x []float32) state {
		s := state{p: make([]float64, len(x)), m: make([]float64, len(x)), v: make([]float64, len(x))}
		for i := range x {
			s.p[i] = float64(x[i])
		}
		return s
	}
	ws, bs := mk(w0), mk(b0)
	for step := 0; step < 2; step++ {
		lr := cfg.Schedule.LR(step)
		gw := make([]float64, len(cw))
		gb := make([]float64, len(cb))
		var sumSq float64
		for i := range cw {
			gw[i] = float64(cw[i])
			sumSq += gw[i] * gw[i]
		}
		for i := range cb {
			gb[i] = 2 * float64(cb[i]) * bs.p[i]
			sumSq += gb[i] * gb[i]
		}
		n := float64(step + 1)
		upd := func(s *state, grad []float64, decay bool) {
			for i := range grad {
				s.m[i] = 0.9*s.m[i] + 0.1*grad[i]
				s.v[i] = 0.99*s.v[i] + 0.01*grad[i]*grad[i]
				if decay {
					s.p[i] *= 1 - lr*0.5
				}
				mh := s.m[i] / (1 - math.Pow(0.9, n))
				vh := s.v[i] / (1 - math.Pow(0.99, n))
				s.p[i] -= lr * mh / (math.Sqrt(vh) + 1e-8)
			}
		}
		upd(&ws, gw, true)
		upd(&bs, gb, false)
		res, err := tr.TrainStep([]*tensors.Tensor{batch})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.GradNorm-math.Sqrt(sumSq)) > 1e-5 {
			t.Errorf("step %d grad norm %g, want %g", step, res.GradNorm, math.Sqrt(sumSq))
		}
		if res.LR != lr {
			t.Errorf("step %d lr %g, want %g", step, res.LR, lr)
		}
	}
	vals := variableValues(t, store)
	for name, want := range map[string][]float64{"/m/w.weight": ws.p, "/m/x.bias": bs.p,
		"/train/adam_m/m/w.weight": ws.m, "/train/adam_v/m/x.bias": bs.v} {
		got := vals[name]
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > adamTol {
				t.Errorf("%s[%d] = %.8f, want %.8f", name, i, got[i], want[i])
			}
		}
	}
}

// TestClipping: with ClipNorm the applied gradient has norm ClipNorm; the
// reported norm is the one before clipping. Checked through the first AdamW
// moment, m = (1−β1)·g_clipped.
func TestClipping(t *testing.T) {
	cases := []struct {
		name     string
		clip     float64
		wantNorm float64 // norm of the applied gradient
	}{
		{"clipped", 1.0, 1.0},
		{"below threshold", 100, 5},
		{"disabled", 0, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := model.NewStore()
			if _, err := store.CreateVariable("/m/w", tensors.FromValue([]float32{0, 0})); err != nil {
				t.Fatal(err)
			}
			loss := func(g *graph.Graph, s *model.Store, _ *graph.Node) (*graph.Node, map[string]*graph.Node) {
				w := s.GetVariable("/m/w").NodeValue(g)
				return graph.ReduceAllSum(graph.Mul(w, graph.Const(g, []float32{3, 4}))), nil // grad (3,4), norm 5
			}
			tr, err := New(testBackend(t), store, loss, Config{
				Schedule: Schedule{PeakLR: 1e-3, TotalSteps: 1}, AdamW: DefaultAdamW(), ClipNorm: c.clip})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tr.TrainStep([]*tensors.Tensor{tensors.FromValue([][]int32{{0}})})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.GradNorm-5) > 1e-6 {
				t.Errorf("reported norm %g, want 5", res.GradNorm)
			}
			m := variableValues(t, store)["/train/adam_m/m/w"]
			got := math.Hypot(float64(m[0]), float64(m[1])) / (1 - DefaultAdamW().Beta1)
			if math.Abs(got-c.wantNorm) > 1e-5*c.wantNorm {
				t.Errorf("applied gradient norm %g, want %g", got, c.wantNorm)
			}
		})
	}
}

// accumTol: difference allowed between 2 micro-batches of B/2 and one batch of
// B after a few steps (float32 summation order differs).
const accumTol = 2e-6

// TestAccumulationEquivalence: AccumSteps=2 with two halves == AccumSteps=1
// with the whole batch, for losses and weights, over 3 updates.
func TestAccumulationEquivalence(t *testing.T) {
	seqs := toySequences(8, 9, 3)
	cfg := Config{Schedule: Schedule{PeakLR: 0.05, MinLR: 0.005, WarmupSteps: 1, TotalSteps: 3}, AdamW: DefaultAdamW(), ClipNorm: 1}
	run := func(accum int) ([]StepResult, map[string][]float32) {
		store := newToyStore(t, 1)
		c := cfg
		c.AccumSteps = accum
		tr, err := New(testBackend(t), store, toyLoss, c)
		if err != nil {
			t.Fatal(err)
		}
		var results []StepResult
		for step := 0; step < 3; step++ {
			var micro []*tensors.Tensor
			per := len(seqs) / accum
			for k := 0; k < accum; k++ {
				micro = append(micro, rowsTensor(seqs[k*per:(k+1)*per]))
			}
			r, err := tr.TrainStep(micro)
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, r)
		}
		vals := variableValues(t, store)
		for k := range vals {
			if len(k) > len(OptimizerScope) && k[:len(OptimizerScope)] == OptimizerScope {
				delete(vals, k)
			}
		}
		return results, vals
	}
	r1, v1 := run(1)
	r2, v2 := run(2)
	for i := range r1 {
		if math.Abs(r1[i].Loss-r2[i].Loss) > accumTol || math.Abs(r1[i].GradNorm-r2[i].GradNorm) > accumTol {
			t.Errorf("step %d: 1×B loss %g norm %g; 2×B/2 loss %g norm %g", i, r1[i].Loss, r1[i].GradNorm, r2[i].Loss, r2[i].GradNorm)
		}
		if r1[i].Tokens != r2[i].Tokens {
			t.Errorf("step %d tokens %d vs %d", i, r1[i].Tokens, r2[i].Tokens)
		}
		if math.Abs(r2[i].Metrics["loss_ce"]-r2[i].Loss) > 1e-7 {
			t.Errorf("metric loss_ce %g != loss %g", r2[i].Metrics["loss_ce"], r2[i].Loss)
		}
	}
	if r1[2].Loss >= r1[0].Loss {
		t.Errorf("loss did not decrease: %g → %g", r1[0].Loss, r1[2].Loss)
	}
	for k, a := range v1 {
		b := v2[k]
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > accumTol {
				t.Fatalf("%s[%d]: %g vs %g", k, i, a[i], b[i])
			}
		}
	}
}

// TestNonFiniteStepKeepsWeights: a NaN loss returns ErrNonFinite and leaves
// weights and moments untouched.
func TestNonFiniteStepKeepsWeights(t *testing.T) {
	store := newToyStore(t, 2)
	poison := false
	loss := func(g *graph.Graph, s *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		l, m := toyLoss(g, s, batch)
		if poison {
			l = graph.Mul(l, graph.Const(g, float32(math.NaN())))
		}
		return l, m
	}
	cfg := Config{Schedule: Schedule{PeakLR: 0.05, TotalSteps: 5}, AdamW: DefaultAdamW()}
	tr, err := New(testBackend(t), store, loss, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := rowsTensor(toySequences(2, 5, 1))
	if _, err := tr.TrainStep([]*tensors.Tensor{b}); err != nil {
		t.Fatal(err)
	}
	before := variableValues(t, store)
	poison = true
	tr2, err := New(testBackend(t), store, loss, cfg) // rebuild graphs with the poisoned loss
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr2.TrainStep([]*tensors.Tensor{b})
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("got error %v, want ErrNonFinite", err)
	}
	after := variableValues(t, store)
	for k, a := range before {
		for i := range a {
			if a[i] != after[k][i] {
				t.Fatalf("%s[%d] changed from %g to %g on a NaN step", k, i, a[i], after[k][i])
			}
		}
	}
	if tr2.Step() != 0 {
		t.Errorf("step advanced to %d on a NaN step", tr2.Step())
	}
}

func TestNoDecayByName(t *testing.T) {
	cases := map[string]bool{
		"model.layers.0.input_layernorm.weight":          true,
		"model.layers.3.post_attention_layernorm.weight": true,
		"model.norm.weight":                              true,
		"model.layers.0.self_attn.q_proj.bias":           true,
		"model.layers.0.self_attn.q_proj.weight":         false,
		"model.embed_tokens.weight":                      false,
		"lm_head.weight":                                 false,
	}
	for name, want := range cases {
		if got := NoDecayByName(name); got != want {
			t.Errorf("NoDecayByName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestFrozenScopeAndExtraMetrics: a frozen "teacher" scope is read by the
// loss but never updated nor checkpointed; an extra trainable variable
// outside /model (a projection) is trained.
func TestFrozenScopeAndExtraMetrics(t *testing.T) {
	store := newToyStore(t, 4)
	if _, err := store.CreateVariable("/teacher/w", tensors.FromValue([]float32{1, 2})); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateVariable("/proj/w", tensors.FromValue([]float32{0.5, -0.5})); err != nil {
		t.Fatal(err)
	}
	if n := FreezeScope(store, "/teacher"); n != 1 {
		t.Fatalf("froze %d variables", n)
	}
	loss := func(g *graph.Graph, s *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		l, _ := toyLoss(g, s, batch)
		teacher := s.GetVariable("/teacher/w").NodeValue(g)
		proj := s.GetVariable("/proj/w").NodeValue(g)
		is := graph.ReduceAllSum(graph.Square(graph.Sub(proj, teacher)))
		return graph.Add(l, is), map[string]*graph.Node{"loss_is": is, "loss_logits": l}
	}
	tr, err := New(testBackend(t), store, loss, Config{Schedule: Schedule{PeakLR: 0.1, TotalSteps: 3}, AdamW: DefaultAdamW()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.TrainStep([]*tensors.Tensor{rowsTensor(toySequences(2, 5, 1))})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Metrics["loss_is"]+res.Metrics["loss_logits"]-res.Loss) > 1e-5 {
		t.Errorf("metrics %v do not add up to loss %g", res.Metrics, res.Loss)
	}
	vals := variableValues(t, store)
	if vals["/teacher/w"][0] != 1 || vals["/teacher/w"][1] != 2 {
		t.Errorf("frozen teacher changed: %v", vals["/teacher/w"])
	}
	if vals["/proj/w"][0] == 0.5 {
		t.Errorf("projection not trained")
	}
	for _, v := range tr.checkpointVariables() {
		if v.Path() == "/teacher/w" {
			t.Error("the frozen teacher is checkpointed")
		}
	}
}
