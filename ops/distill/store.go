package distill

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
)

// NewStore puts the teacher (frozen: non-trainable, under TeacherScope) and
// the student (trainable float32 masters, under StudentScope) into a new
// store. The student's weights must be float32 (load it with
// llm.LoadModel(dir, dtypes.Float32)); the teacher's may be any float dtype.
// The tensors are shared with the models, not copied: training replaces the
// student's tensors, so pass student.Clone() to keep the original usable.
func NewStore(teacher, student *llm.Model) (*model.Store, error) {
	store := model.NewStore()
	if err := student.ToStore(store, StudentScope); err != nil {
		return nil, fmt.Errorf("distill: student: %w", err)
	}
	for name, w := range student.Weights {
		if w.DType() != dtypes.Float32 {
			return nil, fmt.Errorf("distill: student weight %s is %s; trainable weights must be float32", name, w.DType())
		}
	}
	if teacher != nil {
		if err := teacher.ToStore(store, TeacherScope); err != nil {
			return nil, fmt.Errorf("distill: teacher: %w", err)
		}
		FreezeScope(store, TeacherScope)
	}
	return store, nil
}

// FreezeScope marks every variable under scope non-trainable.
func FreezeScope(store *model.Store, scope string) {
	prefix := strings.TrimSuffix(scope, "/") + "/"
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), prefix) {
			v.Trainable = false
		}
	}
}

// CreateProjection adds the trainable projection (student hidden → teacher
// hidden) under ProjectionScope. With keptHidden (the student's kept hidden
// channels in teacher numbering, from its pruning.json, len studentHidden)
// the weight starts as the selection matrix W[keptHidden[i], i] = 1, so the
// projected student state starts in the teacher's channel layout; otherwise
// W ~ N(0, 1/studentHidden) from seed. The bias starts at 0.
func CreateProjection(store *model.Store, teacherHidden, studentHidden int, keptHidden []int, seed uint64) error {
	w := make([]float32, teacherHidden*studentHidden)
	if len(keptHidden) == studentHidden {
		for i, c := range keptHidden {
			if c < 0 || c >= teacherHidden {
				return fmt.Errorf("distill: kept hidden channel %d out of range 0..%d", c, teacherHidden-1)
			}
			w[c*studentHidden+i] = 1
		}
	} else {
		r := rand.New(rand.NewPCG(seed, 0x70726f6a))
		std := 1 / math.Sqrt(float64(studentHidden))
		for i := range w {
			w[i] = float32(r.NormFloat64() * std)
		}
	}
	for _, v := range []struct {
		name string
		t    *tensors.Tensor
	}{
		{ProjectionWeight, tensors.FromFlatDataAndDimensions(w, teacherHidden, studentHidden)},
		{ProjectionBias, tensors.FromShape(shapes.Make(dtypes.Float32, teacherHidden))},
	} {
		path := ProjectionScope + "/" + v.name
		if store.GetVariable(path) != nil {
			return fmt.Errorf("distill: store already holds %s", path)
		}
		if _, err := store.CreateVariable(path, v.t); err != nil {
			return fmt.Errorf("distill: creating %s: %w", path, err)
		}
	}
	return nil
}

// LMLossEvaluator computes the next-token LM loss of the model under a store
// scope (mean over batches, each batch's loss a mean over its predictions).
type LMLossEvaluator struct {
	exec *model.Exec
}

// NewLMLossEvaluator compiles (lazily, per batch shape) the LM loss of cfg's
// model under scope in dtype.
func NewLMLossEvaluator(backend compute.Backend, store *model.Store, cfg *llm.Config, scope string, dtype dtypes.DType) (*LMLossEvaluator, error) {
	exec, err := model.NewExec(backend, store, func(_ *model.Scope, batch *Node) *Node {
		out := llm.Forward(cfg, llm.StoreParams(batch.Graph(), store, scope), batch, &llm.ForwardOptions{DType: dtype})
		return llm.NextTokenLoss(out.Logits, batch, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	}
	return &LMLossEvaluator{exec: exec}, nil
}

// Loss returns the mean LM loss over batches ([batchSize, seqLen] int32 each).
func (e *LMLossEvaluator) Loss(batches []*tensors.Tensor) (float64, error) {
	if len(batches) == 0 {
		return 0, fmt.Errorf("distill: no batches to evaluate")
	}
	var sum float64
	for i, b := range batches {
		outs, err := e.exec.Exec(b)
		if err != nil {
			return 0, fmt.Errorf("distill: evaluating batch %d: %w", i, err)
		}
		sum += float64(tensors.ToScalar[float32](outs[0]))
		outs[0].FinalizeAll()
	}
	return sum / float64(len(batches)), nil
}
