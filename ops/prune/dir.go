package prune

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
	"github.com/gomlx/compute/dtypes"
)

// Summary reports a PruneDir run (the CLI prints it as JSON).
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

// PruneDir loads the Hugging Face model folder modelDir (in its own dtype),
// the importance scores at scoresPath (may be "" when the plan needs none),
// applies plan p and exports the result to outDir with pruning.json.
func PruneDir(modelDir, scoresPath, outDir string, p Plan) (*Summary, error) {
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
	m, err := llm.LoadModel(modelDir, dtype)
	if err != nil {
		return nil, err
	}
	pr, err := Apply(m, p, imp)
	if err != nil {
		return nil, err
	}
	lin := NewLineage(modelDir, scoresPath, m.Config, p, pr)
	if err := Export(outDir, pr, lin, llm.SaveOptions{}); err != nil {
		return nil, err
	}
	to := pr.Model.Config
	s := &Summary{
		Out: absOut, Source: modelDir, Scores: scoresPath, Plan: pr.Plan,
		PlanSummary: results.PlanSummary{
			From: lin.From, To: lin.To, DroppedLayers: droppedLayers(m.Config.NumLayers, pr.Kept.Layers),
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

// droppedLayers returns the source layers not in kept.
func droppedLayers(n int, kept []int) []int {
	var d []int
	j := 0
	for l := range n {
		if j < len(kept) && kept[j] == l {
			j++
			continue
		}
		d = append(d, l)
	}
	return d
}
