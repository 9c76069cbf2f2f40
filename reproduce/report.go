package reproduce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/plots"
	"github.com/gominitron/gominitron/results"
)

// Report is what an experiment returns and saves.
type Report struct {
	Experiment string `json:"experiment"`
	Title      string `json:"title"`
	Claim      string `json:"claim"` // the paper's finding being tested
	Scale      string `json:"scale"`
	Seed       uint64 `json:"seed"`
	// Seeds are the repeats of the experiment (calibration draw and data
	// order; see Env.seeds); every compared quantity has one value per seed.
	Seeds []uint64 `json:"seeds"`
	Sizes Sizes    `json:"sizes"`

	Teacher        string        `json:"teacher"`
	TeacherShape   results.Shape `json:"teacher_shape"`
	TeacherValLoss float64       `json:"teacher_val_loss"`

	Headers []string   `json:"headers"`
	Rows    [][]string `json:"rows"`

	// Reproduced says whether the measured ordering matches the claim;
	// Verdict says it with the numbers.
	Reproduced bool   `json:"reproduced"`
	Verdict    string `json:"verdict"`

	// Runs are the curves of every seed (validation LM loss at eval steps,
	// every step's training numbers); names end in " · seed N" (seedTag).
	Runs    []results.Run `json:"runs,omitempty"`
	Details any           `json:"details,omitempty"` // experiment-specific per-seed results (the judge's input)
	Plots   []string      `json:"plots,omitempty"`   // PNG files written beside table.md
	Notes   []string      `json:"notes,omitempty"`

	ElapsedSec float64 `json:"elapsed_s"`

	figures []figure
}

type figure struct {
	name  string
	build func() (*plot.Plot, error)
}

// Figures builds the report's plots (name, plot) again, e.g. for a notebook.
func (r *Report) Figures() ([]string, []*plot.Plot, error) {
	var names []string
	var ps []*plot.Plot
	for _, f := range r.figures {
		p, err := f.build()
		if err != nil {
			return nil, nil, fmt.Errorf("reproduce: %s plot %s: %w", r.Experiment, f.name, err)
		}
		names, ps = append(names, f.name), append(ps, p)
	}
	return names, ps, nil
}

func (r *Report) addFigure(name string, build func() (*plot.Plot, error)) {
	r.figures = append(r.figures, figure{name: name, build: build})
	if !slices.Contains(r.Plots, name+".png") { // a loaded report lists them already
		r.Plots = append(r.Plots, name+".png")
	}
}

// curvesFigure adds the validation-LM-loss curves of runs; nil runs: the
// first seed's runs of r.Runs (the others are in result.json), or all of
// r.Runs when their names carry no seed.
func (r *Report) curvesFigure(name, title string, runs []results.Run) {
	if runs == nil && len(r.Seeds) > 0 {
		tag := seedTag(r.Seeds[0])
		for _, run := range r.Runs {
			if n, ok := strings.CutSuffix(run.Name, tag); ok {
				run.Name = n
				runs = append(runs, run)
			}
		}
		if len(r.Seeds) > 1 && len(runs) > 0 {
			title += fmt.Sprintf(" (seed %d of %d)", r.Seeds[0], len(r.Seeds))
		}
	}
	if runs == nil {
		runs = r.Runs
	}
	r.addFigure(name, func() (*plot.Plot, error) {
		return plots.TrainingCurves(runs, plots.CurveOptions{Metric: "val_loss", Title: title})
	})
}

// Markdown renders the report: title, claim, teacher and seeds, table,
// verdict, notes.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", r.Title)
	fmt.Fprintf(&b, "Paper: %s\n\n", r.Claim)
	b.WriteString(r.tableAndVerdict())
	fmt.Fprintf(&b, "\n(%.0f s)\n", r.ElapsedSec)
	return b.String()
}

// tableAndVerdict is the generated part of Markdown: setup line, table,
// verdict and notes.
func (r *Report) tableAndVerdict() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Teacher %s (%s, %s params), validation LM loss %.4f; scale %s, %d seed(s) %v, mean ± std over seeds.\n\n",
		teacherName(r.Teacher), r.TeacherShape, plots.SI(float64(r.TeacherShape.Params)), r.TeacherValLoss, r.Scale, len(r.Seeds), r.Seeds)
	b.WriteString(MarkdownTable(r.Headers, r.Rows))
	verdict := "**Not reproduced.**"
	if r.Reproduced {
		verdict = "**Reproduced.**"
	}
	fmt.Fprintf(&b, "\n%s %s\n", verdict, r.Verdict)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// MarkdownTable renders a GitHub markdown table.
func MarkdownTable(headers []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(headers, " | ") + " |\n|")
	for range headers {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

// Files written by Save into <dir>.
const (
	TableFile  = "table.md"
	ResultFile = "result.json"
)

// Save writes dir/table.md, dir/result.json and one PNG per plot.
func (r *Report) Save(dir string) error {
	if err := r.saveDerived(dir); err != nil {
		return err
	}
	return results.SaveJSON(filepath.Join(dir, ResultFile), r)
}

// saveDerived writes what is derived from result.json: dir/table.md and the
// PNG plots.
func (r *Report) saveDerived(dir string) error {
	names, ps, err := r.Figures()
	if err != nil {
		return err
	}
	for i, p := range ps {
		if err := plots.Save(p, filepath.Join(dir, names[i]+".png"), plots.DefaultWidth, plots.DefaultHeight); err != nil {
			return err
		}
	}
	return fileio.WriteFile(filepath.Join(dir, TableFile), []byte(r.Markdown()))
}

func f4(x float64) string { return fmt.Sprintf("%.4f", x) }
func f3(x float64) string { return fmt.Sprintf("%.3f", x) }

// meanStd returns the mean and sample standard deviation.
func meanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}

// pm formats mean ± std (just the mean for one value).
func pm(xs []float64) string {
	m, s := meanStd(xs)
	if len(xs) < 2 {
		return f4(m)
	}
	return fmt.Sprintf("%.4f ± %.4f", m, s)
}

// seedTag is the suffix of a run's name that says its seed.
func seedTag(seed uint64) string { return fmt.Sprintf(" · seed %d", seed) }

// detailsAs returns r.Details as *T: as stored by the experiment, or decoded
// from a loaded result.json (where it is generic JSON).
func detailsAs[T any](r *Report) (*T, error) {
	if d, ok := r.Details.(*T); ok {
		return d, nil
	}
	js, err := json.Marshal(r.Details)
	if err != nil {
		return nil, fmt.Errorf("reproduce: %s details: %w", r.Experiment, err)
	}
	d := new(T)
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("reproduce: %s result details: %w", r.Experiment, err)
	}
	r.Details = d
	return d, nil
}

// pm3 formats accuracies: mean ± std with 3 decimals.
func pm3(xs []float64) string {
	m, s := meanStd(xs)
	if len(xs) < 2 {
		return f3(m)
	}
	return fmt.Sprintf("%.3f ± %.3f", m, s)
}

// teacherName is the teacher folder's last two path elements (e.g.
// "demo-teacher" or "reproduce-teacher/model").
func teacherName(dir string) string {
	base := filepath.Base(dir)
	if parent := filepath.Base(filepath.Dir(dir)); parent != "." && parent != string(filepath.Separator) && parent != "models" {
		return parent + "/" + base
	}
	return base
}
