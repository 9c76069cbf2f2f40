package reproduce

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// experiment is one registry entry.
type experiment struct {
	// run measures every seed and returns the judged report.
	run func(*Env) (*Report, error)
	// judge builds the table, verdict and figures from r.Details and r.Runs
	// alone (stored results; see Regenerate). nil: the stored table and
	// verdict are kept and only the curves are drawn again.
	judge func(*Report) error
}

// registry maps experiment names to their functions (Experiments gives the
// order of `all`).
var registry = map[string]experiment{
	ExpAggregation: {(*Env).Aggregation, judgeAs(judgeAggregation)},
	ExpWidthDepth:  {(*Env).WidthVsDepth, judgeAs(judgeWidthVsDepth)},
	ExpKDvsCE:      {(*Env).KDvsCE, judgeAs(judgeKDvsCE)},
	ExpIterative:   {(*Env).Iterative, judgeAs(judgeIterative)},
	ExpDepthChoice: {(*Env).DepthChoice, judgeAs(judgeDepthChoice)},
	ExpScratch:     {(*Env).Scratch, judgeAs(judgeScratch)},
	ExpFamilyChain: {(*Env).FamilyChain, judgeAs(judgeFamilyChain)},
	ExpSearch:      {func(e *Env) (*Report, error) { return e.Search(SearchOptions{}) }, judgeAs(judgeSearch)},
	// The blog's practices (issue 18).
	ExpCorrection:  {func(e *Env) (*Report, error) { return e.TeacherCorrection(CorrectionOptions{}) }, judgeAs(judgeCorrection)},
	ExpDepthLosses: {(*Env).DepthLosses, judgeAs(judgeDepthLosses)},
	ExpSDGvsKD:     {(*Env).SDGvsKD, judgeAs(judgeSDGvsKD)},
	ExpLayerCurves: {(*Env).LayerCurves, judgeAs(judgeLayerCurves)},
	ExpThroughput:  {(*Env).Throughput, judgeAs(judgeThroughput)},
}

// Run runs one experiment by name (see Experiments) and saves its report
// into <Out>/<name>/.
func (e *Env) Run(name string) (*Report, error) {
	exp, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("reproduce: unknown experiment %q (valid: %s, %s)", name, strings.Join(Experiments, ", "), ExpAll)
	}
	start := time.Now()
	e.logf("== %s (scale %s, seeds %v)", name, e.Scale, e.seeds())
	r, err := exp.run(e)
	if err != nil {
		return nil, fmt.Errorf("reproduce %s: %w", name, err)
	}
	if err := r.Save(filepath.Join(e.Out, name)); err != nil {
		return nil, err
	}
	e.logf("== %s done in %.0fs: %s", name, time.Since(start).Seconds(), r.Verdict)
	return r, nil
}

// RunAll runs every experiment (or the listed ones) in order, saving each.
func (e *Env) RunAll(names ...string) ([]*Report, error) {
	if len(names) == 0 {
		names = Experiments
	}
	var reports []*Report
	for _, n := range names {
		if !slices.Contains(Experiments, n) {
			return reports, fmt.Errorf("reproduce: unknown experiment %q", n)
		}
		r, err := e.Run(n)
		if err != nil {
			return reports, err
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// judged finishes an experiment: it stores details in r and applies the
// experiment's judge (registry form; judgeAs adapts a typed one).
func judged(r *Report, details any, judge func(*Report) error, start time.Time) (*Report, error) {
	r.Details = details
	if err := judge(r); err != nil {
		return nil, err
	}
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}

// judgeAs is judge in the registry's form: it decodes r.Details as *T
// (detailsAs: as stored by the experiment, or from a saved result.json).
func judgeAs[T any](judge func(*Report, *T) error) func(*Report) error {
	return func(r *Report) error {
		details, err := detailsAs[T](r)
		if err != nil {
			return err
		}
		return judge(r, details)
	}
}
