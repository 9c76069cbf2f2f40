package prune

import (
	"fmt"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/safetensors"
	"github.com/gominitron/gominitron/results"
)

// Summary reports a Dir run (the CLI prints it as JSON).
type Summary struct {
	Out    string `json:"out"`
	Source string `json:"source_model"`
	Scores string `json:"scores_file,omitempty"`
	Plan   Plan   `json:"plan"` // resolved
	results.PlanSummary
	ParamsBefore int64   `json:"params_before"`
	ParamsAfter  int64   `json:"params_after"`
	ParamsRatio  float64 `json:"params_ratio"` // after / before
	Seconds      float64 `json:"seconds"`
}

// Dir prunes the Hugging Face model folder modelDir (in its own dtype) to
// plan p, choosing units from the importance scores at scoresPath (may be ""
// when the plan needs none), and exports the result to outDir with
// pruning.json. It streams: the kept rows and columns of each tensor are
// copied straight from the memory-mapped source (whose pages are released as
// the copy passes them), written and released in turn, so it peaks at about
// the largest output tensor for any model size; the output is sharded
// like llm.SaveModel's (index beside the shards above DefaultShardBytes). The
// result is byte-identical to Apply then Export. Options: WithProgress.
func Dir(modelDir, scoresPath, outDir string, p Plan, opts ...DirOption) (*Summary, error) {
	var o dirOptions
	for _, opt := range opts {
		opt(&o)
	}
	start := time.Now()
	// Lineage records absolute paths: they must mean something later.
	var err error
	if modelDir, err = filepath.Abs(modelDir); err != nil {
		return nil, err
	}
	if scoresPath != "" {
		if scoresPath, err = filepath.Abs(scoresPath); err != nil {
			return nil, err
		}
	}
	if err := checkExportTarget(outDir, modelDir, scoresPath); err != nil { // fail fast, before loading weights
		return nil, err
	}
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return nil, err
	}
	cfg, err := llm.LoadConfig(modelDir)
	if err != nil {
		return nil, err
	}
	if _, err := p.Resolve(cfg); err != nil { // fail fast, before loading weights
		return nil, err
	}
	var imp *results.Importance
	if scoresPath != "" {
		if imp, err = results.LoadImportance(scoresPath); err != nil {
			return nil, err
		}
	}
	if err := p.Validate(cfg, imp); err != nil {
		if scoresPath != "" {
			err = fmt.Errorf("%w (scores %s)", err, scoresPath)
		}
		return nil, err
	}
	dtype := StorageDType(cfg)
	ck, err := llm.OpenCheckpoint(modelDir)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	pr, list, err := streamedPrune(ck, p, imp, dtype)
	if err != nil {
		return nil, err
	}
	lin := NewLineage(modelDir, scoresPath, cfg, p, pr)
	if err := exportWith(outDir, pr, lin, func(tmp string) error {
		return llm.SaveTensors(tmp, pr.Model.Config, modelDir, list, llm.SaveOptions{Progress: o.progress})
	}); err != nil {
		return nil, err
	}
	to := pr.Model.Config
	s := &Summary{
		Out: absOut, Source: modelDir, Scores: scoresPath, Plan: pr.Plan,
		PlanSummary: results.PlanSummary{
			From: lin.From, To: lin.To, DroppedLayers: pr.Kept.DroppedLayers(cfg.NumLayers),
			HeadsPerGroup: pr.Plan.HeadsPerGroup, WeightBytes: to.WeightBytes(dtype),
			KVBytesPerToken: to.KVCacheBytesPerToken(dtype),
		},
		ParamsBefore: lin.ParamsBefore, ParamsAfter: lin.ParamsAfter,
		Seconds: time.Since(start).Seconds(),
	}
	if s.ParamsBefore > 0 {
		s.ParamsRatio = float64(s.ParamsAfter) / float64(s.ParamsBefore)
	}
	return s, nil
}

// streamedPrune plans the pruning of the checkpoint ck and returns the
// result without weights (Model.Weights is nil) and the pruned tensors, in
// the pruned config's order, each produced from ck when written.
func streamedPrune(ck *llm.Checkpoint, p Plan, imp *results.Importance, dtype dtypes.DType) (*Pruned, []safetensors.NamedTensor, error) {
	src := ck.Config
	r, sel, cfg, err := planFor(src, p, imp)
	if err != nil {
		return nil, nil, err
	}
	want := cfg.TensorShapes()
	byName := map[string]safetensors.NamedTensor{}
	for _, name := range src.TensorNames() {
		cut, kept, err := sel.cutOf(src, name)
		if err != nil {
			return nil, nil, err
		}
		if !kept {
			continue
		}
		byName[cut.name] = safetensors.NamedTensor{Name: cut.name, Shape: shapes.Make(dtype, want[cut.name]...),
			Produce: func() (*tensors.Tensor, error) {
				// The tensors written before are released: return their
				// memory now, so the peak stays at about one tensor.
				debug.FreeOSMemory()
				return sliceCheckpointTensor(ck, name, dtype, cut.rows, cut.cols)
			}}
	}
	list := make([]safetensors.NamedTensor, 0, len(byName))
	for _, name := range cfg.TensorNames() {
		nt, ok := byName[name]
		if !ok {
			return nil, nil, fmt.Errorf("prune: internal error, pruned config needs tensor %s that no source tensor gives", name)
		}
		list = append(list, nt)
	}
	return &Pruned{Model: &llm.Model{Config: cfg, Source: ck.Dir}, Plan: r, Kept: sel.kept()}, list, nil
}

// sliceCheckpointTensor returns the kept rows and columns (nil: all) of the
// checkpoint's tensor name in dtype. A tensor stored in dtype is sliced
// straight from the mapped file, whose pages are released as the copy
// passes them: only the output exists in memory, never the whole source
// tensor beside its slice. Another stored dtype is converted whole first.
// The output must be finite (ErrNonFinite names the tensor).
func sliceCheckpointTensor(ck *llm.Checkpoint, name string, dtype dtypes.DType, rows, cols []int) (*tensors.Tensor, error) {
	src, shape, err := ck.Raw(name)
	if err != nil {
		return nil, err
	}
	var out *tensors.Tensor
	if shape.DType == dtype {
		out, err = sliceBytes(src, shape, rows, cols, func(readUpTo int64) { ck.ReleaseRaw(name, 0, readUpTo) })
	} else {
		t, terr := ck.Tensor(name, dtype)
		if terr != nil {
			return nil, terr
		}
		defer t.FinalizeAll()
		out, err = sliceTensor(t, rows, cols)
	}
	if err != nil {
		return nil, fmt.Errorf("prune: tensor %s: %w", name, err)
	}
	if i, err := llm.FirstNonFinite(out); err != nil || i >= 0 {
		dims := out.Shape().Dimensions
		out.FinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("prune: tensor %s: %w", name, err)
		}
		return nil, fmt.Errorf("prune: %s: kept part of tensor %q %v: element %d is not finite: %w", ck.Dir, name, dims, i, llm.ErrNonFinite)
	}
	return out, nil
}

// StorageDType is the dtype a model is stored in (config torch_dtype):
// bfloat16, float16, or float32 for anything else.
func StorageDType(cfg *llm.Config) dtypes.DType {
	switch cfg.TorchDType {
	case "bfloat16":
		return dtypes.BFloat16
	case "float16":
		return dtypes.Float16
	}
	return dtypes.Float32
}

// DirOption configures Dir.
type DirOption func(*dirOptions)

type dirOptions struct {
	progress func(done, total int)
}

// WithProgress has Dir call progress as each tensor is read, sliced and
// written (done of total tensors).
func WithProgress(progress func(done, total int)) DirOption {
	return func(o *dirOptions) { o.progress = progress }
}
