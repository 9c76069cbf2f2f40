package distill

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/train"
)

// Store scopes of one distillation step. The trainer updates every Trainable
// variable: the student's weights and the projection; the teacher's are
// created non-trainable and read through StopGradient.
const (
	TeacherScope    = "/teacher"
	StudentScope    = train.ModelScope // "/model"
	ProjectionScope = "/distill"
	// Projection variables (student hidden → teacher hidden), under
	// ProjectionScope; used only for training, never exported.
	ProjectionWeight = "projection.weight" // [teacherHidden, studentHidden]
	ProjectionBias   = "projection.bias"   // [teacherHidden]
)

// Metric names reported per step (results.TrainStep fields).
const (
	MetricLogits = "loss_logits"
	MetricIS     = "loss_is"
	MetricAlpha  = "alpha"
	MetricCE     = "loss_ce"
)

// alphaEps bounds the denominator of the dynamic α = L_logits / L_is.
const alphaEps = 1e-8

// Loss configures the distillation objective
//
//	L = L_logits + α·L_is + CEWeight·L_ce
//
// where L_logits is the mean per-token divergence over unmasked positions,
// L_is the mean over intermediate terms (one per layer pair, plus the
// embedding output when EmbeddingLoss) of the mean per-token state loss, and
// α = L_logits / L_is recomputed every step with both detached (Alpha = 0),
// or the fixed Alpha.
type Loss struct {
	Logits LogitsLoss `json:"logits"`
	// Intermediate pairs student layer outputs with teacher layer outputs;
	// nil disables the intermediate-state loss (unless EmbeddingLoss).
	Intermediate  []LayerPair `json:"intermediate,omitempty"`
	ISLoss        ISLoss      `json:"intermediate_loss,omitempty"`
	EmbeddingLoss bool        `json:"embedding_loss,omitempty"` // also match the embedding outputs (Hidden[0])
	Alpha         float64     `json:"alpha,omitempty"`          // 0: dynamic
	CEWeight      float64     `json:"ce_weight,omitempty"`      // weight of the ground-truth next-token CE (default 0)
	// ChunkSize > 0 computes the logits losses over chunks of ChunkSize
	// positions, each chunk's gradient taken right away, so only one chunk's
	// [batchSize, ChunkSize, vocab] logits of each model need be alive.
	ChunkSize int          `json:"chunk_size,omitempty"`
	DType     dtypes.DType `json:"-"` // compute dtype of both forwards (default float32); losses are float32
	// FusedAttention asks for the backend's fused attention in both forwards
	// (llm.ForwardOptions.FusedAttention: XLA's cuDNN flash attention for
	// bf16/f16; elsewhere the decomposed attention runs).
	FusedAttention bool `json:"fused_attention,omitempty"`
	// VocabUsed > 0 compares logits over ids [0, VocabUsed) only (padding
	// rows cut, see CheckVocab). 0: both vocab sizes must be equal.
	VocabUsed int `json:"vocab_used,omitempty"`
	// PadID, when set, masks the positions holding that token id (no loss
	// there, nor on predicting it); nil masks nothing.
	PadID *int `json:"pad_id,omitempty"`
}

// DefaultLoss is forward KL at τ = 1 on the logits only, no CE, no mask:
// the paper's recommendation.
func DefaultLoss() Loss { return Loss{Logits: LogitsLoss{Kind: ForwardKL, Temperature: 1}} }

// hasIS reports whether there is an intermediate-state term.
func (o Loss) hasIS() bool { return len(o.Intermediate) > 0 || o.EmbeddingLoss }

// Validate checks o against the two configs.
func (o Loss) Validate(teacher, student *llm.Config) error {
	if err := o.Logits.Validate(); err != nil {
		return err
	}
	if _, err := ParseISLoss(string(o.ISLoss)); err != nil {
		return err
	}
	if o.Alpha < 0 || o.CEWeight < 0 || o.ChunkSize < 0 {
		return fmt.Errorf("distill: alpha %g, ce weight %g and chunk size %d must be >= 0", o.Alpha, o.CEWeight, o.ChunkSize)
	}
	for _, p := range o.Intermediate {
		if p.Student < 0 || p.Student >= student.NumLayers || p.Teacher < 0 || p.Teacher >= teacher.NumLayers {
			return fmt.Errorf("distill: layer pair %d:%d out of range (student 0..%d, teacher 0..%d)",
				p.Student, p.Teacher, student.NumLayers-1, teacher.NumLayers-1)
		}
	}
	used := o.vocab(teacher, student)
	if used == 0 {
		return fmt.Errorf("distill: vocab sizes differ (teacher %d, student %d); run CheckVocab and set VocabUsed", teacher.VocabSize, student.VocabSize)
	}
	if used > teacher.VocabSize || used > student.VocabSize {
		return fmt.Errorf("distill: vocab_used %d exceeds a vocab size (teacher %d, student %d)", used, teacher.VocabSize, student.VocabSize)
	}
	if o.Logits.TopK > used {
		return fmt.Errorf("distill: top-k %d exceeds the vocabulary size %d", o.Logits.TopK, used)
	}
	return nil
}

// vocab returns the compared vocabulary size (0 when undetermined).
func (o Loss) vocab(teacher, student *llm.Config) int {
	if o.VocabUsed > 0 {
		return o.VocabUsed
	}
	if teacher.VocabSize == student.VocabSize {
		return teacher.VocabSize
	}
	return 0
}

// frozen wraps a ParamFn so every weight is a StopGradient node.
func frozen(p llm.ParamFn) llm.ParamFn {
	return func(name string) *Node {
		if x := p(name); x != nil {
			return StopGradient(x)
		}
		return nil
	}
}

// NewLossFn returns the train.LossFn of one distillation step: the frozen
// teacher (weights under TeacherScope) and the student (StudentScope) run on
// the same batch in one graph; the logits never leave the device.
//
// batch: [batchSize, seqLen] int32. The loss is float32; metrics are
// loss_logits, loss_ce (always computed, weighted by CEWeight), and with an
// intermediate term loss_is and alpha.
func NewLossFn(teacher, student *llm.Config, o Loss) (train.LossFn, error) {
	if err := o.Validate(teacher, student); err != nil {
		return nil, err
	}
	if o.ISLoss == "" {
		o.ISLoss = ISCosine
	}
	return func(g *Graph, store *model.Store, batch *Node) (*Node, map[string]*Node) {
		tp := frozen(llm.StoreParams(g, store, TeacherScope))
		sp := llm.StoreParams(g, store, StudentScope)
		fwd := &llm.ForwardOptions{DType: o.DType, NoLogits: true, FusedAttention: o.FusedAttention}
		tOut := llm.Forward(teacher, tp, batch, fwd)
		sOut := llm.Forward(student, sp, batch, fwd)
		var mask *Node
		if o.PadID != nil {
			mask = NotEqual(batch, Scalar(g, batch.DType(), *o.PadID))
		}
		lt := logitsTerms{
			opts: o, vocab: o.vocab(teacher, student),
			tHidden: tOut.Hidden[teacher.NumLayers], sHidden: sOut.Hidden[student.NumLayers],
			tHead: lmHeadWeight(teacher, tp, o.DType), sHead: lmHeadWeight(student, sp, o.DType),
			ids: batch, mask: mask,
		}
		lossLogits, lossCE, total := lt.build()
		metrics := map[string]*Node{MetricLogits: lossLogits, MetricCE: lossCE}
		if o.hasIS() {
			w := store.GetVariable(ProjectionScope + "/" + ProjectionWeight)
			b := store.GetVariable(ProjectionScope + "/" + ProjectionBias)
			if w == nil || b == nil {
				panic(fmt.Sprintf("distill: the intermediate loss needs the projection variables under %s (see CreateProjection)", ProjectionScope))
			}
			lossIS := intermediateLoss(teacher, student, tOut, sOut, o, w.NodeValue(g), b.NodeValue(g), mask)
			var alpha *Node
			if o.Alpha > 0 {
				alpha = Scalar(g, dtypes.Float32, o.Alpha)
			} else {
				alpha = Div(StopGradient(lossLogits), MaxScalar(StopGradient(lossIS), alphaEps))
			}
			total = Add(total, Mul(alpha, lossIS))
			metrics[MetricIS], metrics[MetricAlpha] = lossIS, alpha
		}
		return total, metrics
	}, nil
}

// lmHeadWeight returns the output projection [vocab, hidden] (llm.LMHeadWeight) in dtype.
func lmHeadWeight(cfg *llm.Config, p llm.ParamFn, dtype dtypes.DType) *Node {
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float32
	}
	return ConvertDType(llm.LMHeadWeight(cfg, p), dtype)
}

// layerOutput is the residual stream leaving layer l (raw, before any norm).
func layerOutput(cfg *llm.Config, out *llm.Outputs, l int) *Node {
	if l == cfg.NumLayers-1 {
		return out.LastLayerRaw
	}
	return out.Hidden[l+1]
}

// intermediateLoss: mean over the terms (layer pairs, then the embedding
// output) of the masked mean per-token state loss between the RMS-normalized
// teacher state and the projection of the RMS-normalized student state.
func intermediateLoss(teacher, student *llm.Config, tOut, sOut *llm.Outputs, o Loss, w, b, mask *Node) *Node {
	type pair struct{ t, s *Node }
	var pairs []pair
	for _, p := range o.Intermediate {
		pairs = append(pairs, pair{layerOutput(teacher, tOut, p.Teacher), layerOutput(student, sOut, p.Student)})
	}
	if o.EmbeddingLoss {
		pairs = append(pairs, pair{tOut.Hidden[0], sOut.Hidden[0]})
	}
	var sum *Node
	for _, p := range pairs {
		t := StopGradient(RMSNormalize(p.t))                  // [batchSize, seqLen, teacherHidden]
		s := Project(RMSNormalize(p.s), w, b)                 // [batchSize, seqLen, teacherHidden]
		l := MaskedMean(TokenStateLoss(s, t, o.ISLoss), mask) // scalar
		if sum == nil {
			sum = l
		} else {
			sum = Add(sum, l)
		}
	}
	return DivScalar(sum, float64(len(pairs)))
}
