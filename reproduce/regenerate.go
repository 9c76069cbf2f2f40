package reproduce

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/results"
)

// LoadReport reads a report's result.json.
func LoadReport(path string) (*Report, error) {
	var r Report
	if err := results.LoadJSON(path, &r); err != nil {
		return nil, fmt.Errorf("reproduce: %w", err)
	}
	if r.Experiment == "" {
		return nil, fmt.Errorf("reproduce: %s names no experiment", path)
	}
	return &r, nil
}

// Rejudge applies the experiment's current verdict rule and tables to a
// loaded report (no training): table, verdict and figures come from
// r.Details and r.Runs. Experiments without a judge keep their stored table
// and verdict and get their training curves drawn again (when they have
// any: layer-curves and throughput train nothing).
func Rejudge(r *Report) error {
	exp, ok := registry[r.Experiment]
	if !ok || exp.judge == nil {
		// Only the training curves can be drawn from stored runs; other
		// figures of a judge-less experiment stay with its original run.
		r.Plots = nil
		if len(r.Runs) > 0 {
			r.curvesFigure("curves", r.Title+": validation LM loss", nil)
		}
		return nil
	}
	return exp.judge(r)
}

// Regenerate reads every <from>/<experiment>/result.json (raw per-seed
// results), judges it again and writes <out>/<experiment>/table.md and its
// PNG plots; result.json is never rewritten. Reports come back in
// Experiments order, then any other experiment folders by name.
func Regenerate(from, out string) ([]*Report, error) {
	paths, err := filepath.Glob(filepath.Join(from, "*", ResultFile))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("reproduce: no %s under %s/<experiment>/", ResultFile, from)
	}
	var reports []*Report
	for _, p := range paths {
		r, err := LoadReport(p)
		if err != nil {
			return nil, err
		}
		if dir := filepath.Base(filepath.Dir(p)); dir != r.Experiment {
			return nil, fmt.Errorf("reproduce: %s holds experiment %q, not %q", p, r.Experiment, dir)
		}
		if err := Rejudge(r); err != nil {
			return nil, fmt.Errorf("reproduce: %s: %w", p, err)
		}
		if err := r.saveDerived(filepath.Join(out, r.Experiment)); err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	order := func(name string) int {
		for i, n := range Experiments {
			if n == name {
				return i
			}
		}
		return len(Experiments)
	}
	sort.SliceStable(reports, func(a, b int) bool {
		oa, ob := order(reports[a].Experiment), order(reports[b].Experiment)
		return oa < ob || oa == ob && reports[a].Experiment < reports[b].Experiment
	})
	return reports, nil
}

// Markers around a generated table in a markdown document (UpdateDoc).
const (
	docBegin = "<!-- reproduce:table %s -->"
	docEnd   = "<!-- /reproduce:table -->"
)

// UpdateDoc replaces, for each report, the text between the lines
// "<!-- reproduce:table NAME -->" and "<!-- /reproduce:table -->" of doc
// with the report's table and verdict. A report without markers in doc is
// left out; a block whose experiment has no stored result is kept as it is
// (e.g. "pending: run …").
func UpdateDoc(doc []byte, reports []*Report) ([]byte, error) {
	byName := map[string]*Report{}
	for _, r := range reports {
		byName[r.Experiment] = r
	}
	var out bytes.Buffer
	rest := string(doc)
	for {
		i := strings.Index(rest, "<!-- reproduce:table ")
		if i < 0 {
			out.WriteString(rest)
			return out.Bytes(), nil
		}
		lineEnd := strings.Index(rest[i:], "-->")
		if lineEnd < 0 {
			return nil, fmt.Errorf("reproduce: unterminated marker %q", rest[i:min(len(rest), i+40)])
		}
		var name string
		if _, err := fmt.Sscanf(rest[i:i+lineEnd+3], docBegin, &name); err != nil {
			return nil, fmt.Errorf("reproduce: marker %q: %w", rest[i:i+lineEnd+3], err)
		}
		end := strings.Index(rest[i:], docEnd)
		if end < 0 {
			return nil, fmt.Errorf("reproduce: marker for %s has no %s", name, docEnd)
		}
		r, ok := byName[name]
		if !ok {
			out.WriteString(rest[:i+end+len(docEnd)])
			rest = rest[i+end+len(docEnd):]
			continue
		}
		out.WriteString(rest[:i])
		fmt.Fprintf(&out, docBegin+"\n%s", name, r.tableAndVerdict())
		out.WriteString(docEnd)
		rest = rest[i+end+len(docEnd):]
	}
}

// UpdateDocFile rewrites the generated tables of the markdown file path
// (UpdateDoc) atomically.
func UpdateDocFile(path string, reports []*Report) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	updated, err := UpdateDoc(doc, reports)
	if err != nil {
		return fmt.Errorf("reproduce: %s: %w", path, err)
	}
	return fileio.WriteFile(path, updated)
}
