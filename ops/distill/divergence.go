package distill

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// Divergence names a logits distillation loss.
type Divergence string

// The logits losses. p_t is the teacher's distribution, p_s the student's,
// both softmax(logits / τ).
const (
	ForwardKL Divergence = "kl"  // KL(p_t ‖ p_s) = Σ p_t (log p_t − log p_s): the paper's choice
	ReverseKL Divergence = "rkl" // KL(p_s ‖ p_t)
	JSD       Divergence = "jsd" // β KL(p_t ‖ m) + (1−β) KL(p_s ‖ m), m = β p_t + (1−β) p_s
)

// ParseDivergence checks a loss name ("kl", "rkl" or "jsd").
func ParseDivergence(s string) (Divergence, error) {
	switch d := Divergence(s); d {
	case ForwardKL, ReverseKL, JSD:
		return d, nil
	}
	return "", fmt.Errorf("distill: unknown logits loss %q (want kl, rkl or jsd)", s)
}

// LogitsLoss configures the per-token divergence between teacher and student
// logits.
type LogitsLoss struct {
	Kind        Divergence `json:"kind"`           // default ForwardKL
	Temperature float64    `json:"temperature"`    // τ (default 1); with τ ≠ 1 the divergence is multiplied by τ²
	Beta        float64    `json:"beta,omitempty"` // JSD β in (0, 1) (default 0.5)
	// TopK > 0 keeps only the teacher's K largest logits per position (forward
	// KL only): the teacher distribution is renormalized over its top-K ids,
	// and the student's full-vocabulary log-probabilities are gathered at
	// those ids (not renormalized). The loss is then
	// Σ_{k∈K} p̂_t[k] (log p̂_t[k] − log p_s[k]) ≥ −log Σ_{k∈K} p_s[k] ≥ 0;
	// its minimum puts all of the student's mass on the teacher's top-K in
	// the teacher's renormalized proportions, so even a student identical to
	// the teacher pays −log(teacher mass in top-K).
	TopK int `json:"top_k,omitempty"`
}

// withDefaults fills the zero fields.
func (o LogitsLoss) withDefaults() LogitsLoss {
	if o.Kind == "" {
		o.Kind = ForwardKL
	}
	if o.Temperature == 0 {
		o.Temperature = 1
	}
	if o.Beta == 0 {
		o.Beta = 0.5
	}
	return o
}

// Validate reports unusable settings.
func (o LogitsLoss) Validate() error {
	o = o.withDefaults()
	if _, err := ParseDivergence(string(o.Kind)); err != nil {
		return err
	}
	if !(o.Temperature > 0) || math.IsInf(o.Temperature, 0) {
		return fmt.Errorf("distill: temperature must be > 0, got %g", o.Temperature)
	}
	if !(o.Beta > 0 && o.Beta < 1) {
		return fmt.Errorf("distill: JSD beta must be in (0, 1), got %g", o.Beta)
	}
	if o.TopK < 0 {
		return fmt.Errorf("distill: top-k must be >= 0, got %d", o.TopK)
	}
	if o.TopK > 0 && o.Kind != ForwardKL {
		return fmt.Errorf("distill: top-k applies to the forward KL loss only, not %q", o.Kind)
	}
	return nil
}

// minLogProb floors log-probabilities so that −inf logits (and bf16-range
// extremes) never produce 0·∞ = NaN: a probability below e^(−1e30) is 0 in
// float32 anyway, so the divergence values are unchanged.
const minLogProb = -1e30

// logProbs returns log softmax(logits/τ) in float32, floored at minLogProb.
// logits: [..., vocab]
func logProbs(logits *Node, temperature float64) *Node {
	z := ConvertDType(logits, dtypes.Float32)
	if temperature != 1 {
		z = DivScalar(z, temperature)
	}
	return MaxScalar(LogSoftmax(z, -1), minLogProb)
}

// KLFromLogProbs is KL(p ‖ q) = Σ_v exp(lp)·(lp − lq) over the last axis,
// from log-probabilities lp = log p, lq = log q: [..., vocab] → [...]. The
// one KL of the project (the pruning explorer's cost too); float dtype of
// the inputs, no clamping (TokenDivergence clamps at 0).
func KLFromLogProbs(lp, lq *Node) *Node {
	return ReduceSum(Mul(Exp(lp), Sub(lp, lq)), -1)
}

// TokenDivergence returns the per-position divergence between teacher and
// student logits ([..., vocab], any float dtype; computed in float32):
// [...] float32, ≥ 0.
//
// It is differentiable with respect to the student logits only (the teacher
// is a target). For the full-vocabulary losses the gradient is the analytic
// one, attached with a surrogate (value StopGradient'ed, gradient ⟨SG(g), z⟩):
// with u = z_s/τ, ∂D/∂u is p_s − p_t (forward KL), p_s ⊙ (d − Σ p_s d) with
// d = log p_s − log p_t (reverse KL), and p_s ⊙ (g − Σ p_s g) with g = (1−β)
// (log p_s − log m) (JSD). It is exactly 0 when the two logits are equal
// (autodiff through log-softmax leaves ~1e-8 rounding noise there, which
// Adam's normalization would blow up to full-size steps). Top-K uses autodiff.
func TokenDivergence(teacher, student *Node, o LogitsLoss) *Node {
	if err := o.Validate(); err != nil {
		panic(err)
	}
	o = o.withDefaults()
	if !teacher.Shape().EqualDimensions(student.Shape()) {
		panic(fmt.Sprintf("distill: teacher logits %s and student logits %s differ", teacher.Shape(), student.Shape()))
	}
	tau2 := o.Temperature * o.Temperature
	if o.TopK > 0 {
		div := MaxScalar(topKForwardKL(StopGradient(teacher), student, o.TopK, o.Temperature), 0)
		if o.Temperature != 1 {
			div = MulScalar(div, tau2)
		}
		return div
	}
	lt := logProbs(StopGradient(teacher), o.Temperature)
	ls := logProbs(StopGradient(student), o.Temperature)
	ps := Exp(ls)
	var value, grad *Node // [...], [..., vocab]
	switch o.Kind {
	case ForwardKL:
		value = KLFromLogProbs(lt, ls)
		grad = Sub(ps, Exp(lt))
	case ReverseKL:
		value = KLFromLogProbs(ls, lt)
		d := Sub(ls, lt)
		grad = Mul(ps, Sub(d, InsertAxes(value, -1)))
	case JSD:
		// log m = hi + log(β e^(lt−hi) + (1−β) e^(ls−hi)), hi = max(lt, ls):
		// stable, and exactly ls when lt = ls (β + (1−β) rounds to 1).
		hi := Max(lt, ls)
		lm := Add(hi, Log(Add(MulScalar(Exp(Sub(lt, hi)), o.Beta), MulScalar(Exp(Sub(ls, hi)), 1-o.Beta))))
		value = Add(MulScalar(KLFromLogProbs(lt, lm), o.Beta), MulScalar(KLFromLogProbs(ls, lm), 1-o.Beta))
		g := MulScalar(Sub(ls, lm), 1-o.Beta)
		grad = Mul(ps, Sub(g, ReduceAndKeep(Mul(ps, g), ReduceSum, -1)))
	}
	// Rounding can make a divergence of identical distributions −1e-8.
	value = MaxScalar(value, 0)
	u := ConvertDType(student, dtypes.Float32)
	if o.Temperature != 1 {
		u = DivScalar(u, o.Temperature)
	}
	u = MaxScalar(u, minLogProb) // −inf·0 would be NaN; the gradient is 0 there anyway
	surrogate := ReduceSum(Mul(StopGradient(grad), u), -1)
	div := Add(value, Sub(surrogate, StopGradient(surrogate)))
	if o.Temperature != 1 {
		div = MulScalar(div, tau2)
	}
	return div
}

// topKForwardKL: see LogitsLoss.TopK. teacher, student: [..., vocab] → [...].
func topKForwardKL(teacher, student *Node, k int, temperature float64) *Node {
	vocab := teacher.Shape().Dim(-1)
	if k > vocab {
		panic(fmt.Sprintf("distill: top-k %d exceeds the vocabulary size %d", k, vocab))
	}
	outer := teacher.Shape().Dimensions[:teacher.Rank()-1]
	n := 1
	for _, d := range outer {
		n *= d
	}
	zt := Reshape(ConvertDType(teacher, dtypes.Float32), n, vocab)
	if temperature != 1 {
		zt = DivScalar(zt, temperature)
	}
	topVals, topIDs := TopK(zt, k, -1)                    // [n, k]
	ltK := MaxScalar(LogSoftmax(topVals, -1), minLogProb) // teacher renormalized over its top-K
	ls := Reshape(logProbs(student, temperature), n, vocab)
	rows := Iota(zt.Graph(), topIDs.Shape(), 0)         // [n, k]
	lsK := Gather(ls, Stack([]*Node{rows, topIDs}, -1)) // [n, k]
	div := ReduceSum(Mul(Exp(ltK), Sub(ltK, lsK)), -1)  // [n]
	return Reshape(div, outer...)
}

// MaskedMean is the mean of x over the positions where mask is set (mask nil:
// all), 0 when none is: x [batchSize, seqLen] float32, mask [batchSize,
// seqLen] bool or 0/1.
func MaskedMean(x, mask *Node) *Node {
	sum, count := maskedSum(x, mask)
	return Div(sum, MaxScalar(count, 1))
}

// maskedSum returns Σ x·w and Σ w (both float32 scalars, the count detached)
// with w the 0/1 weights of mask (nil: all ones).
func maskedSum(x, mask *Node) (sum, count *Node) {
	x = ConvertDType(x, dtypes.Float32)
	if mask == nil {
		return ReduceAllSum(x), Scalar(x.Graph(), dtypes.Float32, float64(x.Shape().Size()))
	}
	w := maskWeights(mask)
	// Where, not Mul: a masked position may hold Inf/NaN (e.g. padding).
	return ReduceAllSum(Where(GreaterThan(w, ZerosLike(w)), x, ZerosLike(x))), ReduceAllSum(w)
}

// maskWeights converts a bool or numeric mask to detached float32 0/1.
func maskWeights(mask *Node) *Node {
	var w *Node
	if mask.DType() == dtypes.Bool {
		w = ConvertDType(mask, dtypes.Float32)
	} else {
		w = ConvertDType(NotEqual(mask, ZerosLike(mask)), dtypes.Float32)
	}
	return StopGradient(w)
}
