package reproduce

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Run runs one experiment by name (see Experiments) and saves its report
// into <Out>/<name>/.
func (e *Env) Run(name string) (*Report, error) {
	var (
		r   *Report
		err error
	)
	start := time.Now()
	e.logf("== %s (scale %s)", name, e.Scale)
	switch name {
	case ExpAggregation:
		r, err = e.Aggregation()
	case ExpWidthDepth:
		r, err = e.WidthVsDepth()
	case ExpKDvsCE:
		r, err = e.KDvsCE()
	case ExpIterative:
		r, err = e.Iterative()
	case ExpDepthChoice:
		r, err = e.DepthChoice()
	case ExpScratch:
		r, err = e.Scratch()
	case ExpFamilyChain:
		r, err = e.FamilyChain()
	case ExpSearch:
		r, err = e.Search(SearchOptions{})
	case ExpCorrection:
		r, err = e.TeacherCorrection(CorrectionOptions{})
	case ExpDepthLosses:
		r, err = e.DepthLosses()
	case ExpSDGvsKD:
		r, err = e.SDGvsKD()
	case ExpLayerCurves:
		r, err = e.LayerCurves()
	case ExpThroughput:
		r, err = e.Throughput()
	default:
		return nil, fmt.Errorf("reproduce: unknown experiment %q (valid: %s, %s)", name, strings.Join(Experiments, ", "), ExpAll)
	}
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
