package main

import (
	"fmt"
	"github.com/gominitron/gominitron/internal/progress"
	"os"
	"path/filepath"
	"regexp"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/plots"
)

// evalOpenOptions are the eval flags that open a model for task scoring.
type evalOpenOptions struct {
	tokPath  string // "" = the model folder
	dtype    dtypes.DType
	batch    int
	addBOS   bool
	needGen  bool // a generation task will run
	needCode bool // mbpp will run: open the sandbox
	quiet    bool
}

// openEvaluators loads a model and its tokenizer and builds what the tasks
// need: a log-likelihood scorer and encoder, a generator, and for mbpp the
// sandbox (refused when there is none). The returned function releases the
// compiled graphs.
func openEvaluators(modelDir string, o evalOpenOptions) (evaluate.Evaluators, func(), error) {
	var ev evaluate.Evaluators
	if o.needCode {
		sb, err := evaluate.NewSandboxRunner()
		if err != nil {
			return ev, nil, err
		}
		ev.Code = sb
	}
	m, be, err := loadModel(modelDir, o.dtype)
	if err != nil {
		return ev, nil, err
	}
	tokPath := o.tokPath
	if tokPath == "" {
		tokPath = modelDir
	}
	tok, err := tokenize.Load(tokPath)
	if err != nil {
		return ev, nil, fmt.Errorf("tasks need the model's tokenizer (--tokenizer): %w", err)
	}
	opts := evaluate.EvaluatorOptions{BatchSize: o.batch, DType: o.dtype, AddBOS: o.addBOS, Generate: o.needGen, Code: ev.Code}
	if !o.quiet {
		meter := &progress.Stages{W: os.Stderr, Prefix: "eval"}
		opts.Progress = func(what string, done, total int) { meter.Update("", int64(done), int64(total), what) }
	}
	ev, release, err := evaluate.NewModelEvaluators(be, m, tok, opts)
	if err != nil {
		return ev, nil, err
	}
	// Free the weights (host and device) before a suite loads the next model.
	return ev, func() {
		release()
		for _, t := range m.Weights {
			t.FinalizeAll()
		}
	}, nil
}

// runEvalTask scores one task file of any format with the common result
// JSON: {model, task, format, shots, seed, n, metrics, stderr}.
func runEvalTask(modelDir string, spec evaluate.SuiteTask, o evalOpenOptions, logSamples string, emit func(any) error) error {
	if spec.Sampler != "" && spec.Sampler != "random" && spec.Sampler != "first_n" {
		return fmt.Errorf("--sampler %q: want random or first_n", spec.Sampler)
	}
	if err := checkOutputsOutsideInputs(map[string]string{"--log-samples": logSamples}, []string{spec.Task, spec.Fewshot, modelDir, o.tokPath}); err != nil {
		return err
	}
	lt, err := evaluate.LoadTask(spec)
	if err != nil {
		return err
	}
	o.needGen, o.needCode = lt.Gen != nil, lt.Format == evaluate.FormatMBPP
	ev, release, err := openEvaluators(modelDir, o)
	if err != nil {
		return err
	}
	defer release()
	res, err := evaluate.EvaluateTask(ev, lt)
	if !o.quiet {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return err
	}
	if logSamples != "" {
		if err := evaluate.WriteSamples(logSamples, res.Samples); err != nil {
			return err
		}
	}
	seed := uint64(evaluate.DefaultSeed)
	if spec.Seed != nil {
		seed = *spec.Seed
	}
	return emit(taskJSON{Model: modelDir, Task: spec.Task, Format: string(lt.Format), Shots: spec.Shots, Seed: seed, TaskResult: res})
}

type taskJSON struct {
	Model  string `json:"model"`
	Task   string `json:"task"`
	Format string `json:"format"`
	Shots  int    `json:"shots"`
	Seed   uint64 `json:"seed"`
	*evaluate.TaskResult
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// runEvalSuite runs a suite file: every task on every model, then the
// table as JSON (stdout and --out), Markdown (stderr and --markdown) and a
// plot (--plot); --log-samples names a folder for one JSON Lines file per
// model and benchmark.
func runEvalSuite(suitePath string, o evalOpenOptions, logSamplesDir, markdownPath, plotPath string, emit func(any) error) error {
	s, err := evaluate.ReadSuite(suitePath)
	if err != nil {
		return err
	}
	var tasks []*evaluate.LoadedTask
	for _, spec := range s.Tasks {
		lt, err := evaluate.LoadTask(spec)
		if err != nil {
			return err
		}
		tasks = append(tasks, lt)
		o.needGen = o.needGen || lt.Gen != nil
	}
	o.needCode = evaluate.NeedsSandbox(tasks)
	names := make([]string, len(s.Models))
	inputs := []string{suitePath, o.tokPath}
	for i, m := range s.Models {
		names[i] = m.Name
		inputs = append(inputs, m.Path)
	}
	for _, t := range s.Tasks {
		inputs = append(inputs, t.Task, t.Fewshot)
	}
	outs := map[string]string{"--log-samples": logSamplesDir, "--markdown": markdownPath, "--plot": plotPath}
	if err := checkOutputsOutsideInputs(outs, inputs); err != nil {
		return err
	}
	if logSamplesDir != "" {
		if err := os.MkdirAll(logSamplesDir, 0o755); err != nil {
			return fmt.Errorf("--log-samples: %w", err)
		}
	}
	open := func(m int) (evaluate.Evaluators, func(), error) {
		if !o.quiet {
			fmt.Fprintf(os.Stderr, "eval: model %s (%s)\n", s.Models[m].Name, s.Models[m].Path)
		}
		return openEvaluators(s.Models[m].Path, o)
	}
	done := func(m, t int, r *evaluate.TaskResult) error {
		if !o.quiet {
			fmt.Fprintf(os.Stderr, "\neval: %s on %s: %s = %.4f (n %d)\n", s.Tasks[t].Benchmark, s.Models[m].Name, s.Tasks[t].Metric, r.Metrics[s.Tasks[t].Metric], r.N)
		}
		if logSamplesDir == "" {
			return nil
		}
		name := unsafeName.ReplaceAllString(s.Models[m].Name, "_") + "__" + unsafeName.ReplaceAllString(s.Tasks[t].Benchmark, "_") + ".jsonl"
		return evaluate.WriteSamples(filepath.Join(logSamplesDir, name), r.Samples)
	}
	tab, err := evaluate.RunSuite(names, tasks, open, done)
	if err != nil {
		return err
	}
	md := tab.Markdown()
	if !o.quiet {
		fmt.Fprint(os.Stderr, md)
	}
	if markdownPath != "" {
		if err := fileio.WriteFile(markdownPath, []byte(md)); err != nil {
			return err
		}
	}
	if plotPath != "" {
		p, err := plots.BenchmarkTable(tab)
		if err != nil {
			return err
		}
		if err := plots.Save(p, plotPath, plots.DefaultWidth, plots.DefaultHeight); err != nil {
			return err
		}
	}
	return emit(tab)
}

// checkOutputsOutsideInputs refuses an output path that is one of the
// inputs or lies inside an input folder (flag names the output's flag).
func checkOutputsOutsideInputs(outputs map[string]string, inputs []string) error {
	for flag, out := range outputs {
		if err := fileio.CheckOutput(out, inputs...); err != nil {
			return fmt.Errorf("%s %s would write into the input: %w", flag, out, err)
		}
	}
	return nil
}
