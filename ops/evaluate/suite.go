package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/results"
)

// Suite is a benchmark table to compute: models × tasks (the JSON of
// `gominitron eval --suite`). Relative paths are relative to the suite file.
type Suite struct {
	Models []SuiteModel `json:"models"`
	Tasks  []SuiteTask  `json:"tasks"`
}

// SuiteModel is one column of the table.
type SuiteModel struct {
	Name string `json:"name"` // column header (default: the folder name)
	Path string `json:"path"` // Hugging Face model folder
}

// SuiteTask is one row of the table.
type SuiteTask struct {
	Benchmark    string  `json:"benchmark"` // row label (default: the format)
	Task         string  `json:"task"`      // dataset file (.jsonl, or .parquet for generation formats)
	Format       string  `json:"format"`
	Shots        int     `json:"shots"`
	Metric       string  `json:"metric,omitempty"` // default: DefaultMetric(format)
	Limit        int     `json:"limit,omitempty"`  // first N examples (0 = all)
	Seed         *uint64 `json:"seed,omitempty"`   // few-shot sampler seed (default 1234)
	MaxGenTokens int     `json:"max_gen_tokens,omitempty"`
	Sampler      string  `json:"sampler,omitempty"`       // "random" | "first_n" (default: the format's)
	RougeStemmer bool    `json:"rouge_stemmer,omitempty"` // xlsum: Porter-stem ROUGE tokens (default off, as the harness)
	Fewshot      string  `json:"fewshot,omitempty"`       // file of few-shot examples in the same format (the harness's few-shot split); default: the task's other examples
}

// DefaultSeed is the few-shot seed when none is given (the CLI's default).
const DefaultSeed = 1234

// ReadSuite reads and validates a suite file; paths are made relative to
// its folder.
func ReadSuite(path string) (*Suite, error) {
	var s Suite
	if err := results.LoadJSON(path, &s); err != nil {
		return nil, fmt.Errorf("evaluate: suite: %w", err)
	}
	if len(s.Models) == 0 || len(s.Tasks) == 0 {
		return nil, fmt.Errorf("evaluate: suite %s needs at least one model and one task", path)
	}
	base := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	for i := range s.Models {
		m := &s.Models[i]
		if m.Path == "" {
			return nil, fmt.Errorf("evaluate: suite %s: model %d has no path", path, i)
		}
		m.Path = rel(m.Path)
		if m.Name == "" {
			m.Name = filepath.Base(m.Path)
		}
	}
	for i := range s.Tasks {
		t := &s.Tasks[i]
		f, err := ParseFormat(t.Format)
		if err != nil {
			return nil, fmt.Errorf("evaluate: suite %s task %d: %w", path, i, err)
		}
		if t.Task == "" {
			return nil, fmt.Errorf("evaluate: suite %s task %d has no task file", path, i)
		}
		t.Task = rel(t.Task)
		if t.Fewshot != "" {
			t.Fewshot = rel(t.Fewshot)
		}
		if t.Benchmark == "" {
			t.Benchmark = string(f)
		}
		if t.Metric == "" {
			t.Metric = DefaultMetric(f)
		}
		if !slices.Contains(FormatMetrics(f), t.Metric) {
			return nil, fmt.Errorf("evaluate: suite %s task %d (%s): format %s has no metric %q (want one of %v)", path, i, t.Benchmark, f, t.Metric, FormatMetrics(f))
		}
		if t.Shots < 0 || t.Limit < 0 || t.MaxGenTokens < 0 {
			return nil, fmt.Errorf("evaluate: suite %s task %d (%s): shots, limit and max_gen_tokens must be ≥ 0", path, i, t.Benchmark)
		}
		if t.Sampler != "" && t.Sampler != "random" && t.Sampler != "first_n" {
			return nil, fmt.Errorf("evaluate: suite %s task %d (%s): sampler %q: want random or first_n", path, i, t.Benchmark, t.Sampler)
		}
		if t.RougeStemmer && f != FormatXLSum {
			return nil, fmt.Errorf("evaluate: suite %s task %d (%s): rouge_stemmer applies to the xlsum format only, not %s", path, i, t.Benchmark, f)
		}
	}
	return &s, nil
}

// LoadedTask is a task file parsed in its format, with how to score it.
type LoadedTask struct {
	Spec   SuiteTask
	Format Format
	MC     []Doc    // log-likelihood formats
	Gen    *GenTask // generation formats
	// The few-shot split (spec.Fewshot), in the same format; nil when the
	// examples come from the task's other docs.
	FewshotMC  []Doc
	FewshotGen *GenTask
}

// LoadTask reads the task file of spec.
func LoadTask(spec SuiteTask) (*LoadedTask, error) {
	f, err := ParseFormat(spec.Format)
	if err != nil {
		return nil, err
	}
	lt := &LoadedTask{Spec: spec, Format: f}
	if IsGenFormat(f) {
		lt.Gen, err = ReadGenTask(spec.Task, f)
		if err == nil && spec.Fewshot != "" {
			lt.FewshotGen, err = ReadGenTask(spec.Fewshot, f)
		}
	} else {
		lt.MC, err = ReadTask(spec.Task, f)
		if err == nil && spec.Fewshot != "" {
			lt.FewshotMC, err = ReadTask(spec.Fewshot, f)
		}
	}
	if err != nil {
		return nil, err
	}
	return lt, nil
}

// Evaluators are the opened values scoring a task on one model needs:
// log-likelihood tasks use Scorer and Encoder, generation tasks Generator,
// and mbpp also Code (a sandbox).
type Evaluators struct {
	Scorer    Scorer
	Encoder   *Encoder
	Generator Generator
	Code      CodeRunner
}

// EvaluateTask scores one loaded task with the format's semantics.
func EvaluateTask(ev Evaluators, t *LoadedTask) (*TaskResult, error) {
	seed := uint64(DefaultSeed)
	if t.Spec.Seed != nil {
		seed = *t.Spec.Seed
	}
	var firstN *bool
	switch t.Spec.Sampler {
	case "random":
		firstN = new(bool)
	case "first_n":
		v := true
		firstN = &v
	}
	if t.Gen != nil {
		if ev.Generator == nil {
			return nil, fmt.Errorf("evaluate: %s needs a generator", t.Format)
		}
		opts := GenOptions{Shots: t.Spec.Shots, Seed: seed, Limit: t.Spec.Limit, FirstN: firstN, MaxGenTokens: t.Spec.MaxGenTokens, RougeStemmer: t.Spec.RougeStemmer}
		if t.FewshotGen != nil {
			opts.Fewshot = t.FewshotGen.Docs
		}
		return EvaluateGen(ev.Generator, ev.Code, t.Gen, opts)
	}
	if ev.Scorer == nil || ev.Encoder == nil {
		return nil, fmt.Errorf("evaluate: %s needs a log-likelihood scorer and encoder", t.Format)
	}
	opts := MCOptions{Shots: t.Spec.Shots, Seed: seed, Limit: t.Spec.Limit, FirstN: t.Format == FormatMMLU, Fewshot: t.FewshotMC}
	if firstN != nil {
		opts.FirstN = *firstN
	}
	r, err := MultipleChoice(ev.Scorer, ev.Encoder, t.MC, opts)
	if err != nil {
		return nil, err
	}
	return MCTaskResult(t.Format, t.MC, r)
}

// NeedsSandbox reports whether any task runs generated code.
func NeedsSandbox(tasks []*LoadedTask) bool {
	for _, t := range tasks {
		if t.Format == FormatMBPP {
			return true
		}
	}
	return false
}

// RunSuite scores every task on every model and fills the benchmark table.
// open returns the evaluators of model m and a function releasing them; it
// is called once per model, in order, so only one model is loaded at a
// time. done, optional, sees every result (e.g. to log samples).
func RunSuite(models []string, tasks []*LoadedTask, open func(m int) (Evaluators, func(), error), done func(m, t int, r *TaskResult) error) (*results.BenchmarkTable, error) {
	tab := &results.BenchmarkTable{Models: models}
	for _, t := range tasks {
		tab.Rows = append(tab.Rows, results.BenchmarkRow{Benchmark: t.Spec.Benchmark, Task: t.Spec.Task, Format: string(t.Format),
			Shots: t.Spec.Shots, Metric: t.Spec.Metric, Values: make([]float64, len(models)), Stderr: make([]float64, len(models))})
	}
	for m := range models {
		ev, release, err := open(m)
		if err != nil {
			return nil, err
		}
		for i, t := range tasks {
			r, err := EvaluateTask(ev, t)
			if err != nil {
				release()
				return nil, fmt.Errorf("evaluate: model %s, task %s: %w", models[m], t.Spec.Benchmark, err)
			}
			v, ok := r.Metrics[t.Spec.Metric]
			if !ok {
				release()
				return nil, fmt.Errorf("evaluate: task %s (%s) has no metric %q (it has %v)", t.Spec.Benchmark, t.Format, t.Spec.Metric, r.MetricNames())
			}
			tab.Rows[i].Values[m], tab.Rows[i].Stderr[m], tab.Rows[i].N = v, r.Stderr[t.Spec.Metric], r.N
			if done != nil {
				if err := done(m, i, r); err != nil {
					release()
					return nil, err
				}
			}
		}
		release()
	}
	return tab, nil
}

// WriteSamples writes samples as JSON Lines (one Sample per line) to path,
// atomically.
func WriteSamples(path string, samples []Sample) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, s := range samples {
		if err := enc.Encode(s); err != nil {
			return fmt.Errorf("evaluate: encoding sample %s: %w", s.DocID, err)
		}
	}
	return fileio.WriteFile(path, b.Bytes())
}
