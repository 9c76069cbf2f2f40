package prune

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// LineageFile is the name of the lineage record written beside the weights.
const LineageFile = "pruning.json"

// Lineage is the content of pruning.json: where a pruned model comes from and
// exactly what was kept, so a family chain (teacher → 8B → 4B …) can be
// traced back to the source weights.
type Lineage struct {
	Source       string          `json:"source_model"`          // source model folder or id
	Scores       string          `json:"scores_file,omitempty"` // importance JSON the units were chosen from
	Plan         Plan            `json:"plan"`                  // as requested
	Resolved     Plan            `json:"resolved_plan"`         // every target explicit (after rounding)
	From         results.Shape   `json:"from"`
	To           results.Shape   `json:"to"`
	ParamsBefore int64           `json:"params_before"`
	ParamsAfter  int64           `json:"params_after"`
	Kept         *Kept           `json:"kept"`
	Created      time.Time       `json:"created"`
	Parent       json.RawMessage `json:"parent,omitempty"` // the source's own pruning.json, if it was pruned too
}

// NewLineage builds the lineage record of a pruning of source (with config
// src) into pr, requested as plan and chosen from the scores file scores.
func NewLineage(source, scores string, src *llm.Config, plan Plan, pr *Pruned) *Lineage {
	lin := &Lineage{
		Source: source, Scores: scores, Plan: plan, Resolved: pr.Plan,
		From: ShapeOf(src), To: ShapeOf(pr.Model.Config),
		Kept: pr.Kept, Created: time.Now().UTC(),
	}
	lin.ParamsBefore, lin.ParamsAfter = lin.From.Params, lin.To.Params
	if source != "" {
		if data, err := os.ReadFile(filepath.Join(source, LineageFile)); err == nil && json.Valid(data) {
			lin.Parent = json.RawMessage(data)
		}
	}
	return lin
}

// sideFiles are files of a source folder that stay valid after pruning (the
// vocabulary is never cut) and are copied to the export when present
// (llm.SaveModel already copies the tokenizer and generation config).
var sideFiles = []string{
	"generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
	"tokenizer.model", "vocab.json", "merges.txt", "chat_template.jinja", "added_tokens.json",
}

// Export writes the pruned model to dir as a Hugging Face folder
// (config.json in the classic form with head_dim, safetensors, via
// llm.SaveModel), plus pruning.json and the tokenizer and generation config
// files of the source folder (pr.Model.Source). The folder is built
// under a temporary name beside dir and renamed into place, so dir is either
// complete or absent. dir must not exist (or be empty) and must not be, or be
// inside, the source folder.
func Export(dir string, pr *Pruned, lin *Lineage, opts llm.SaveOptions) error {
	if pr == nil || pr.Model == nil {
		return fmt.Errorf("prune: export %s: nil model", dir)
	}
	return exportWith(dir, pr, lin, func(tmp string) error { return llm.SaveModel(tmp, pr.Model, opts) })
}

// exportWith is Export with the weights and config.json written into the
// staging folder by save (llm.SaveModel, or llm.SaveTensors streaming them).
func exportWith(dir string, pr *Pruned, lin *Lineage, save func(tmp string) error) (err error) {
	if err := checkExportTarget(dir, pr.Model.Source, lineageSource(lin)); err != nil {
		return err
	}
	// Build the whole folder beside dir (creating its missing parents), then
	// rename it into place.
	stage, commit, cleanup, err := fileio.StageDir(dir)
	if err != nil {
		return fmt.Errorf("prune: export %s: %w", dir, err)
	}
	defer cleanup()
	tmp := stage
	if err = save(tmp); err != nil { // config.json, safetensors, tokenizer files of pr.Model.Source
		return fmt.Errorf("prune: export %s: %w", dir, err)
	}
	if lin != nil {
		if err = fileio.WriteJSON(filepath.Join(tmp, LineageFile), lin); err != nil {
			return fmt.Errorf("prune: export %s: %w", dir, err)
		}
	}
	if src := pr.Model.Source; src != "" {
		for _, name := range sideFiles {
			dst := filepath.Join(tmp, name)
			if _, err := os.Lstat(dst); err == nil {
				continue // llm.SaveModel copied it
			}
			if _, err = fileio.CopySideFile(src, name, dst); err != nil {
				return fmt.Errorf("prune: export %s: %w", dir, err)
			}
		}
	}
	return commit()
}

// checkExportTarget checks that dir can receive an export: not (inside) any
// of the source folders (fileio.CheckOutput), and absent or empty.
func checkExportTarget(dir string, sources ...string) error {
	if err := fileio.CheckOutput(dir, sources...); err != nil {
		return fmt.Errorf("prune: export: %w", err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("prune: export %s: folder exists and is not empty; choose a new output folder", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("prune: export %s: %w", dir, err)
	}
	return nil
}

// lineageSource is lin.Source, or "" for a nil lineage.
func lineageSource(lin *Lineage) string {
	if lin == nil {
		return ""
	}
	return lin.Source
}
