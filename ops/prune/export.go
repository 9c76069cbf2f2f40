package prune

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

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
func Export(dir string, pr *Pruned, lin *Lineage, opts llm.SaveOptions) (err error) {
	if pr == nil || pr.Model == nil {
		return fmt.Errorf("prune: export %s: nil model", dir)
	}
	absDir, err := checkExportTarget(dir, pr.Model.Source, lineageSource(lin))
	if err != nil {
		return err
	}
	// Build the whole folder under a temporary name, then rename it into place.
	tmpParent, err := os.MkdirTemp(filepath.Dir(absDir), "."+filepath.Base(absDir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("prune: export %s: %w", dir, err)
	}
	defer os.RemoveAll(tmpParent)
	tmp := filepath.Join(tmpParent, "model")
	if err = llm.SaveModel(tmp, pr.Model, opts); err != nil { // config.json, safetensors, tokenizer files of pr.Model.Source
		return fmt.Errorf("prune: export %s: %w", dir, err)
	}
	if lin != nil {
		data, jerr := json.MarshalIndent(lin, "", "  ")
		if jerr != nil {
			return fmt.Errorf("prune: export %s: encoding %s: %w", dir, LineageFile, jerr)
		}
		if err = os.WriteFile(filepath.Join(tmp, LineageFile), append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("prune: export %s: %w", dir, err)
		}
	}
	if src := pr.Model.Source; src != "" {
		for _, name := range sideFiles {
			if err = copyIfMissing(filepath.Join(src, name), filepath.Join(tmp, name)); err != nil {
				return fmt.Errorf("prune: export %s: %w", dir, err)
			}
		}
	}
	if err = os.Remove(absDir); err != nil && !errors.Is(err, os.ErrNotExist) { // an empty folder may stand there
		return fmt.Errorf("prune: export %s: %w", dir, err)
	}
	if err = os.Rename(tmp, absDir); err != nil {
		return fmt.Errorf("prune: export %s: %w", dir, err)
	}
	return nil
}

// checkExportTarget returns the absolute path of dir after checking that it
// can receive an export: not (inside) any of the source folders, and absent
// or empty.
func checkExportTarget(dir string, sources ...string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("prune: export %s: %w", dir, err)
	}
	for _, src := range sources {
		if src == "" {
			continue
		}
		if inside, err := isWithin(absDir, src); err != nil {
			return "", fmt.Errorf("prune: export %s: %w", dir, err)
		} else if inside {
			return "", fmt.Errorf("prune: export %s: refusing to write into the source model folder %s", dir, src)
		}
	}
	if entries, err := os.ReadDir(absDir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("prune: export %s: folder exists and is not empty (choose a new --out)", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("prune: export %s: %w", dir, err)
	}
	return absDir, nil
}

// isWithin reports whether path is dir or inside it (symlinks resolved where
// they exist).
func isWithin(path, dir string) (bool, error) {
	resolve := func(p string) (string, error) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		// Resolve the longest existing prefix.
		rest := ""
		for cur := abs; ; {
			if r, err := filepath.EvalSymlinks(cur); err == nil {
				return filepath.Join(r, rest), nil
			}
			parent := filepath.Dir(cur)
			if parent == cur {
				return abs, nil
			}
			rest = filepath.Join(filepath.Base(cur), rest)
			cur = parent
		}
	}
	p, err := resolve(path)
	if err != nil {
		return false, err
	}
	d, err := resolve(dir)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(d, p)
	if err != nil {
		return false, nil
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))), nil
}

// lineageSource is lin.Source, or "" for a nil lineage.
func lineageSource(lin *Lineage) string {
	if lin == nil {
		return ""
	}
	return lin.Source
}

// copyIfMissing copies src to dst when src exists and dst does not.
func copyIfMissing(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
