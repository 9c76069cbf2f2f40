package distill

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// Tolerances.
const (
	fdStep       = 1e-2 // central-difference step on float32 inputs
	fdTolerance  = 3e-3 // |analytic − numeric| allowed per element
	zeroLossTol  = 1e-6 // KL(p‖p) and friends
	boundSlack   = 1e-5 // JSD ≤ H(β) up to float32 rounding
	equalLossTol = 1e-5 // the same loss computed two ways
)

func testBackend(t testing.TB) compute.Backend { return fixtures.Backend(t) }

func randLogits(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

// lossCases are every logits loss variant.
var lossCases = []struct {
	name string
	o    LogitsLoss
}{
	{"kl", LogitsLoss{Kind: ForwardKL}},
	{"kl-tau2", LogitsLoss{Kind: ForwardKL, Temperature: 2}},
	{"rkl", LogitsLoss{Kind: ReverseKL}},
	{"rkl-tau0.5", LogitsLoss{Kind: ReverseKL, Temperature: 0.5}},
	{"jsd", LogitsLoss{Kind: JSD, Beta: 0.5}},
	{"jsd-beta0.2", LogitsLoss{Kind: JSD, Beta: 0.2}},
	{"kl-top3", LogitsLoss{Kind: ForwardKL, TopK: 3}},
	{"kl-top3-tau2", LogitsLoss{Kind: ForwardKL, TopK: 3, Temperature: 2}},
}

// TestLogitsLossGradients checks d(mean divergence)/d(student logits) against
// central differences for every loss.
func TestLogitsLossGradients(t *testing.T) {
	be := testBackend(t)
	const rows, vocab = 3, 7
	r := rand.New(rand.NewPCG(1, 2))
	teacher := tensors.FromFlatDataAndDimensions(randLogits(r, rows*vocab, 2), rows, vocab)
	studentData := randLogits(r, rows*vocab, 2)
	for _, c := range lossCases {
		t.Run(c.name, func(t *testing.T) {
			lossExec := MustNewExec(be, func(tl, sl *Node) *Node { return ReduceAllMean(TokenDivergence(StopGradient(tl), sl, c.o)) })
			gradExec := MustNewExec(be, func(tl, sl *Node) *Node {
				return Gradient(ReduceAllMean(TokenDivergence(StopGradient(tl), sl, c.o)), sl)[0]
			})
			eval := func(x []float32) float64 {
				out := lossExec.MustExec(teacher, tensors.FromFlatDataAndDimensions(x, rows, vocab))[0]
				return float64(tensors.ToScalar[float32](out))
			}
			grad := tensors.MustCopyFlatData[float32](gradExec.MustExec(teacher, tensors.FromFlatDataAndDimensions(studentData, rows, vocab))[0])
			checkFD(t, eval, studentData, grad)
		})
	}
}

// checkFD compares grad with central differences of eval around x.
func checkFD(t *testing.T, eval func([]float32) float64, x []float32, grad []float32) {
	t.Helper()
	worst := 0.0
	for i := range x {
		xp := append([]float32(nil), x...)
		xm := append([]float32(nil), x...)
		xp[i] += fdStep
		xm[i] -= fdStep
		num := (eval(xp) - eval(xm)) / (2 * fdStep)
		diff := math.Abs(num - float64(grad[i]))
		worst = max(worst, diff)
		if diff > fdTolerance {
			t.Errorf("element %d: analytic %.6f, numeric %.6f", i, grad[i], num)
		}
	}
	if allZero(grad) {
		t.Errorf("gradient is all zeros (test cannot fail on it)")
	}
	t.Logf("worst |analytic − numeric| = %.2e over %d elements", worst, len(x))
}

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

// extremeLogits returns rows of random logits, then rows with bf16-range
// extremes: ±1e4 spikes, −1e30 and −3e38 ("−inf-ish") entries.
func extremeLogits(r *rand.Rand, vocab int) [][]float32 {
	rows := [][]float32{randLogits(r, vocab, 1), randLogits(r, vocab, 10), randLogits(r, vocab, 100)}
	spike := randLogits(r, vocab, 1)
	spike[1], spike[4] = 1e4, -1e4
	rows = append(rows, spike)
	neg := randLogits(r, vocab, 1)
	neg[0], neg[2], neg[3] = -1e30, -3e38, -3e38
	rows = append(rows, neg)
	allBig := make([]float32, vocab)
	for i := range allBig {
		allBig[i] = 1e4 * float32(i%3-1)
	}
	return append(rows, allBig)
}

// TestDivergenceProperties: D(p‖p) = 0, D ≥ 0, JSD ≤ H(β) (ln 2 at β = ½) on
// random and extreme logits, in float32 and from bfloat16 inputs.
func TestDivergenceProperties(t *testing.T) {
	be := testBackend(t)
	const vocab = 11
	r := rand.New(rand.NewPCG(3, 4))
	rows := extremeLogits(r, vocab)
	n := len(rows)
	// Pairs: every row against every row.
	var tFlat, sFlat []float32
	for i := range rows {
		for j := range rows {
			tFlat = append(tFlat, rows[i]...)
			sFlat = append(sFlat, rows[j]...)
		}
	}
	tl := tensors.FromFlatDataAndDimensions(tFlat, n, n, vocab)
	sl := tensors.FromFlatDataAndDimensions(sFlat, n, n, vocab)
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		for _, c := range lossCases {
			t.Run(dt.String()+"/"+c.name, func(t *testing.T) {
				exec := MustNewExec(be, func(a, b *Node) (*Node, *Node) {
					a, b = ConvertDType(a, dt), ConvertDType(b, dt)
					return TokenDivergence(a, b, c.o), TokenDivergence(b, b, c.o)
				})
				outs := exec.MustExec(tl, sl)
				d := tensors.MustCopyFlatData[float32](outs[0])
				self := tensors.MustCopyFlatData[float32](outs[1])
				bound := math.Inf(1)
				if c.o.Kind == JSD {
					b := c.o.Beta
					bound = -b*math.Log(b) - (1-b)*math.Log(1-b)
					if c.o.Temperature > 0 && c.o.Temperature != 1 {
						bound *= c.o.Temperature * c.o.Temperature
					}
				}
				for k, v := range d {
					if math.IsNaN(float64(v)) || v < 0 || float64(v) > bound+boundSlack {
						t.Errorf("pair %d/%d: divergence %g (want finite, ≥ 0, ≤ %g)", k/n, k%n, v, bound)
					}
				}
				for k, v := range self {
					// Top-K pays −log(teacher mass in top-K) even against itself.
					if c.o.TopK == 0 && math.Abs(float64(v)) > zeroLossTol {
						t.Errorf("row %d: D(p‖p) = %g, want 0", k%n, v)
					}
					if math.IsNaN(float64(v)) || v < 0 {
						t.Errorf("row %d: D(p‖p) = %g", k%n, v)
					}
				}
			})
		}
	}
	// JSD at β = ½ reaches ln 2 for disjoint supports.
	exec := MustNewExec(be, func(a, b *Node) *Node { return TokenDivergence(a, b, LogitsLoss{Kind: JSD}) })
	a := tensors.FromFlatDataAndDimensions([]float32{1e4, -1e4, -1e4}, 1, 3)
	b := tensors.FromFlatDataAndDimensions([]float32{-1e4, 1e4, -1e4}, 1, 3)
	got := tensors.MustCopyFlatData[float32](exec.MustExec(a, b)[0])[0]
	if math.Abs(float64(got)-math.Ln2) > boundSlack {
		t.Errorf("JSD of disjoint distributions = %g, want ln 2 = %g", got, math.Ln2)
	}
}

// TestForwardKLMatchesDefinition compares with a float64 host computation.
func TestForwardKLMatchesDefinition(t *testing.T) {
	be := testBackend(t)
	const vocab = 9
	r := rand.New(rand.NewPCG(5, 6))
	tl, sl := randLogits(r, vocab, 3), randLogits(r, vocab, 3)
	for _, tau := range []float64{1, 2} {
		exec := MustNewExec(be, func(a, b *Node) *Node { return TokenDivergence(a, b, LogitsLoss{Temperature: tau}) })
		got := tensors.MustCopyFlatData[float32](exec.MustExec(
			tensors.FromFlatDataAndDimensions(tl, 1, vocab), tensors.FromFlatDataAndDimensions(sl, 1, vocab))[0])[0]
		p, q := softmax64(tl, tau), softmax64(sl, tau)
		want := 0.0
		for i := range p {
			want += p[i] * (math.Log(p[i]) - math.Log(q[i]))
		}
		want *= tau * tau
		if math.Abs(float64(got)-want) > equalLossTol {
			t.Errorf("τ=%g: KL = %g, want %g", tau, got, want)
		}
	}
	// Top-K with K = vocab is the full KL.
	execK := MustNewExec(be, func(a, b *Node) (*Node, *Node) {
		return TokenDivergence(a, b, LogitsLoss{TopK: vocab}), TokenDivergence(a, b, LogitsLoss{})
	})
	outs := execK.MustExec(tensors.FromFlatDataAndDimensions(tl, 1, vocab), tensors.FromFlatDataAndDimensions(sl, 1, vocab))
	k, full := tensors.MustCopyFlatData[float32](outs[0])[0], tensors.MustCopyFlatData[float32](outs[1])[0]
	if math.Abs(float64(k-full)) > equalLossTol {
		t.Errorf("top-K with K = vocab: %g, full KL %g", k, full)
	}
}

func softmax64(x []float32, tau float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v)/tau)
	}
	out := make([]float64, len(x))
	sum := 0.0
	for i, v := range x {
		out[i] = math.Exp(float64(v)/tau - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// TestStateLossGradients: finite differences of the intermediate-state
// losses with respect to the projection weight, bias and student states.
func TestStateLossGradients(t *testing.T) {
	be := testBackend(t)
	const tokens, ds, dt = 4, 3, 5
	r := rand.New(rand.NewPCG(7, 8))
	teacher := tensors.FromFlatDataAndDimensions(randLogits(r, tokens*dt, 1), tokens, dt)
	student := tensors.FromFlatDataAndDimensions(randLogits(r, tokens*ds, 1), tokens, ds)
	wData, bData := randLogits(r, dt*ds, 0.5), randLogits(r, dt, 0.1)
	bias := tensors.FromFlatDataAndDimensions(bData, dt)
	for _, kind := range []ISLoss{ISCosine, ISMSE} {
		t.Run(string(kind), func(t *testing.T) {
			loss := func(tt, s, w, b *Node) *Node {
				return ReduceAllMean(TokenStateLoss(Project(RMSNormalize(s), w, b), StopGradient(RMSNormalize(tt)), kind))
			}
			lossExec := MustNewExec(be, loss)
			gradExec := MustNewExec(be, func(tt, s, w, b *Node) []*Node { return Gradient(loss(tt, s, w, b), w, b) })
			eval := func(x []float32) float64 {
				return float64(tensors.ToScalar[float32](lossExec.MustExec(teacher, student, tensors.FromFlatDataAndDimensions(x, dt, ds), bias)[0]))
			}
			grads := gradExec.MustExec(teacher, student, tensors.FromFlatDataAndDimensions(wData, dt, ds), bias)
			checkFD(t, eval, wData, tensors.MustCopyFlatData[float32](grads[0]))
			evalB := func(x []float32) float64 {
				return float64(tensors.ToScalar[float32](lossExec.MustExec(teacher, student, tensors.FromFlatDataAndDimensions(wData, dt, ds), tensors.FromFlatDataAndDimensions(x, dt))[0]))
			}
			checkFD(t, evalB, bData, tensors.MustCopyFlatData[float32](grads[1]))
		})
	}
}

// TestMaskedMean: masked positions (even NaN ones) are excluded.
func TestMaskedMean(t *testing.T) {
	be := testBackend(t)
	exec := MustNewExec(be, func(x, m *Node) *Node { return MaskedMean(x, m) })
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, float32(math.NaN()), 4}, 2, 2)
	m := tensors.FromFlatDataAndDimensions([]bool{true, true, false, true}, 2, 2)
	if got := tensors.ToScalar[float32](exec.MustExec(x, m)[0]); math.Abs(float64(got)-7.0/3) > equalLossTol {
		t.Errorf("masked mean = %g, want 7/3", got)
	}
}
