package main

import (
	"fmt"
	"os"
	"time"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/internal/progress"
	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/results"
)

func runEval(args []string) error {
	fs := newFlagSet("eval",
		"usage:",
		"  gominitron eval --model DIR --data PATH [--seq-len L --stride S --max-tokens N]         → {lm_loss, perplexity, tokens}",
		"  gominitron eval --model DIR --task FILE.jsonl --format winogrande|hellaswag|arc|piqa|mmlu|mc [--shots K --seed S --fewshot FILE] → {acc, acc_norm, stderr, n}",
		"  gominitron eval --model DIR --task FILE.jsonl --format F --blocks K [--metric acc|acc_norm --merge-into scores.json] → block_scores",
		"  gominitron eval --make-task OUT.jsonl --data CORPUS [--n 500 --seed S]                   → next-sentence task (generic mc form)",
		"  gominitron eval --model DIR --task FILE --format gsm8k|xlsum|mbpp|truthfulqa_mc1|truthfulqa_mc2 [--shots K --fewshot FILE --max-gen-tokens N] → {n, metrics, stderr}",
		"  gominitron eval --suite FILE.json [--markdown T.md --plot T.png --log-samples DIR]      → benchmark table (models × tasks)")
	modelDir := fs.String("model", "", "Hugging Face model folder")
	tokPath := fs.String("tokenizer", "", "tokenizer.json / tokenizer.model or folder (default: the model folder)")
	data := fs.String("data", "", "evaluation data: a token file (gominitron data pack), .safetensors (input_ids rows), or text: .txt, .jsonl (\"text\"), .parquet, or a folder of them")
	split := fs.String("split", "val", "split of a token file to evaluate")
	seqLen := fs.Int("seq-len", 0, "model input tokens per window (default: min(max_position_embeddings, 2048))")
	stride := fs.Int("stride", 0, "new tokens predicted per window (default: seq-len, disjoint windows)")
	maxTokens := fs.Int64("max-tokens", 0, "stop after this many predicted tokens (0 = all)")
	batch := fs.Int("batch", 8, "sequences per forward pass")
	dtype := dtypeFlag(fs, "float32", "compute dtype: float32, bfloat16 or float16 (weights keep their stored dtype unless this is narrower)")
	task := fs.String("task", "", "multiple-choice task file (JSON Lines)")
	format := fs.String("format", "", "task format: winogrande, hellaswag, arc, piqa, mmlu or mc")
	shots := fs.Int("shots", 0, "few-shot examples per prompt, drawn from the task's other examples")
	seed := fs.Uint64("seed", 1234, "seed of the few-shot sampler (or of --make-task)")
	limit := fs.Int("limit", 0, "evaluate only the first N examples (0 = all)")
	sampler := fs.String("sampler", "", "few-shot sampler: random (seeded) or first_n (default: first_n for mmlu, as the harness; random otherwise)")
	addBOS := fs.Bool("add-bos", false, "prepend BOS to every request (lm-eval-harness add_bos_token=True); off by default as in the harness")
	blocks := fs.Int("blocks", 0, "block sweep: score the task with each contiguous block of K layers removed")
	metric := fs.String("metric", "acc", "block sweep metric: acc or acc_norm")
	mergeInto := fs.String("merge-into", "", "block sweep: also store the result as block_scores in this importance JSON (rewritten atomically)")
	makeTask := fs.String("make-task", "", "build the offline next-sentence task from --data text into this JSONL file")
	n := fs.Int("n", 500, "--make-task: number of items")
	passage := fs.Int("passage-sentences", 3, "--make-task: sentences of passage before the true next sentence")
	choices := fs.Int("choices", 4, "--make-task: options per item (1 true + distractors from other documents)")
	out := fs.String("out", "", "also write the JSON result to this file (atomically)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	dryRun := fs.Bool("dry-run", false, "--data or multiple-choice --task: print the plan (docs, sequences, batches, memory, time estimated from a run of the first batch) as JSON and write nothing")
	logSamples := fs.String("log-samples", "", "--task: write one JSON line per example (prompt, generation or log-likelihoods, target, metrics) to this file; --suite: a folder for one such file per model and benchmark")
	suite := fs.String("suite", "", "benchmark suite JSON: {models: [{name, path}], tasks: [{benchmark, task, format, shots, metric, ...}]}")
	markdown := fs.String("markdown", "", "--suite: also write the table as Markdown to this file")
	plotPath := fs.String("plot", "", "--suite: also draw the table to this .png or .svg")
	maxGen := fs.Int("max-gen-tokens", 0, "generation tasks: new tokens at most (0 = the harness's 256)")
	fewshot := fs.String("fewshot", "", "--task: draw the few-shot examples from this file (same format; the harness's few-shot split, e.g. train or dev) instead of the task's other examples")
	rougeStemmer := fs.Bool("rouge-stemmer", false, "xlsum: Porter-stem ROUGE tokens (rouge_score's use_stemmer=True; off by default, as the harness)")
	if err := parseFlags(fs, args, nonNegative("seq-len"), nonNegative("stride"), nonNegative("max-tokens"), positive("batch"), nonNegative("shots"), nonNegative("limit"),
		nonNegative("blocks"), positive("n"), positive("passage-sentences"), atLeast("choices", 2)); err != nil {
		return err
	}
	for flagName, o := range map[string]string{"out": *out, "make-task": *makeTask} {
		if err := checkOutputFlag(flagName, o, *modelDir, *data, *task, *tokPath, *mergeInto); err != nil {
			return err
		}
	}
	if err := fileio.CheckMergeOutput(*mergeInto, *modelDir, *data, *task, *tokPath); err != nil {
		return fmt.Errorf("--merge-into: %w", err)
	}
	emit := func(v any) error { return printJSON(v, *out) }
	if *dryRun && (*suite != "" || *makeTask != "" || *blocks > 0) {
		return fmt.Errorf("--dry-run plans --data (LM loss) and multiple-choice --task runs, not --suite, --make-task or --blocks")
	}

	if *suite != "" {
		if *modelDir != "" || *task != "" || *data != "" {
			return fmt.Errorf("--suite names its models and tasks itself; do not combine it with --model, --task or --data")
		}
		return runEvalSuite(*suite, evalOpenOptions{tokPath: *tokPath, dtype: *dtype, batch: *batch, addBOS: *addBOS, quiet: *quiet}, *logSamples, *markdown, *plotPath, emit)
	}

	if *makeTask != "" {
		if *data == "" {
			return fmt.Errorf("--make-task needs --data (held-out corpus text)")
		}
		texts, err := evaluate.ReadTextDocuments(*data)
		if err != nil {
			return err
		}
		items, err := evaluate.BuildNextSentenceTask(texts, evaluate.NextSentenceOptions{N: *n, Seed: *seed, PassageSentences: *passage, Choices: *choices})
		if err != nil {
			return err
		}
		if err := evaluate.WriteMCItems(*makeTask, items); err != nil {
			return err
		}
		return emit(map[string]any{"task": *makeTask, "format": "mc", "n": len(items), "documents": len(texts), "seed": *seed})
	}

	if *modelDir == "" {
		return fmt.Errorf("--model is required")
	}
	if (*data == "") == (*task == "") {
		return fmt.Errorf("give exactly one of --data (LM loss) or --task (multiple choice)")
	}
	if *rougeStemmer && *format != string(evaluate.FormatXLSum) {
		return fmt.Errorf("--rouge-stemmer applies to --format xlsum only")
	}
	if f, ferr := evaluate.ParseFormat(*format); *task != "" && ferr == nil && (evaluate.IsGenFormat(f) || f == evaluate.FormatTruthfulQAMC1 || f == evaluate.FormatTruthfulQAMC2) {
		if *blocks > 0 {
			return fmt.Errorf("--blocks sweeps multiple-choice formats only, not %s", f)
		}
		if *dryRun {
			return fmt.Errorf("--dry-run plans --data (LM loss) and multiple-choice --task runs, not the %s format", f)
		}
		spec := evaluate.SuiteTask{Task: *task, Format: string(f), Shots: *shots, Seed: seed, Limit: *limit, MaxGenTokens: *maxGen, Sampler: *sampler, RougeStemmer: *rougeStemmer, Fewshot: *fewshot}
		return runEvalTask(*modelDir, spec, evalOpenOptions{tokPath: *tokPath, dtype: *dtype, batch: *batch, addBOS: *addBOS, quiet: *quiet}, *logSamples, emit)
	}
	m, be, err := loadModel(*modelDir, *dtype)
	if err != nil {
		return err
	}
	cfg := m.Config
	modelOpts := evaluate.ModelOptions{BatchSize: *batch, DType: *dtype}
	if *tokPath == "" {
		*tokPath = *modelDir
	}

	if *data != "" {
		tok, tokErr := tokenize.Load(*tokPath) // only text data needs it
		if tokErr != nil {
			tok = nil
		}
		docs, err := evaluate.ReadTokenDocuments(*data, tok, *split, *maxTokens)
		if err != nil {
			if tokErr != nil {
				return fmt.Errorf("%w (tokenizer: %v)", err, tokErr)
			}
			return err
		}
		if *seqLen == 0 {
			*seqLen = 2048
			if cfg.MaxPositions > 0 {
				*seqLen = min(*seqLen, cfg.MaxPositions)
			}
		}
		modelOpts.MaxLen = *seqLen
		prober, err := evaluate.NewModelLogProber(be, m, modelOpts)
		if err != nil {
			return err
		}
		opts := evaluate.LossOptions{SeqLen: *seqLen, Stride: *stride, MaxTokens: *maxTokens}
		if *dryRun {
			return printEvalPlan(*quiet)(evaluate.DryRunLoss(prober, docs, opts))
		}
		if !*quiet {
			meter := &progress.Stages{W: os.Stderr, Prefix: "eval"}
			opts.Progress = func(done, total int64) { meter.Update("", done, total, "tokens") }
		}
		res, err := evaluate.LMLoss(prober, docs, opts)
		if !*quiet {
			fmt.Fprintln(os.Stderr)
		}
		if err != nil {
			return err
		}
		res.Model, res.Data = *modelDir, *data
		return emit(res)
	}

	f, err := evaluate.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	docs, err := evaluate.ReadTask(*task, f)
	if err != nil {
		return err
	}
	if err := checkOutputsOutsideInputs(map[string]string{"--log-samples": *logSamples}, []string{*task, *fewshot, *modelDir, *tokPath}); err != nil {
		return err
	}
	var fewshotDocs []evaluate.Doc
	if *fewshot != "" {
		if fewshotDocs, err = evaluate.ReadTask(*fewshot, f); err != nil {
			return fmt.Errorf("--fewshot: %w", err)
		}
	}
	tok, err := tokenize.Load(*tokPath)
	if err != nil {
		return fmt.Errorf("multiple-choice tasks need the model's tokenizer (--tokenizer): %w", err)
	}
	enc, err := evaluate.NewHarnessEncoder(tok, *addBOS)
	if err != nil {
		return err
	}
	mcOpts := evaluate.MCOptions{Shots: *shots, Seed: *seed, Limit: *limit, FirstN: f == evaluate.FormatMMLU, Fewshot: fewshotDocs}
	switch *sampler {
	case "":
	case "random":
		mcOpts.FirstN = false
	case "first_n":
		mcOpts.FirstN = true
	default:
		return fmt.Errorf("--sampler %q: want random or first_n", *sampler)
	}
	if *blocks > 0 {
		sweep := evaluate.BlockSweepOptions{BlockSize: *blocks, Metric: *metric, Task: *task, MC: mcOpts, Model: modelOpts}
		if !*quiet {
			sweep.Progress = func(s int, v float64) {
				if s < 0 {
					fmt.Fprintf(os.Stderr, "eval: full model %s %.4f\n", *metric, v)
				} else {
					fmt.Fprintf(os.Stderr, "eval: without layers %d-%d %s %.4f\n", s, s+*blocks-1, *metric, v)
				}
			}
		}
		bs, err := evaluate.BlockSweepMC(be, m, enc, docs, sweep)
		if err != nil {
			return err
		}
		if *mergeInto != "" {
			imp, err := results.LoadImportance(*mergeInto)
			if err != nil {
				return err
			}
			imp.BlockScores = bs
			if err := imp.Save(*mergeInto); err != nil {
				return err
			}
		}
		return emit(bs)
	}
	prober, err := evaluate.NewModelLogProber(be, m, modelOpts)
	if err != nil {
		return err
	}
	if *dryRun {
		return printEvalPlan(*quiet)(evaluate.DryRunMC(prober, f, enc, docs, mcOpts))
	}
	scorer := &evaluate.SeqScorer{Model: prober}
	if !*quiet {
		meter := &progress.Stages{W: os.Stderr, Prefix: "eval"}
		scorer.Progress = func(done, total int) { meter.Update("", int64(done), int64(total), "continuations") }
	}
	res, err := evaluate.MultipleChoice(scorer, enc, docs, mcOpts)
	if !*quiet {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return err
	}
	if *logSamples != "" {
		tr, err := evaluate.MCTaskResult(f, docs, res)
		if err != nil {
			return err
		}
		if err := evaluate.WriteSamples(*logSamples, tr.Samples); err != nil {
			return err
		}
	}
	return emit(struct {
		results.MCEval
		AccNormStderr float64 `json:"acc_norm_stderr"`
	}{results.MCEval{Model: *modelDir, Task: *task, Format: string(f), Shots: *shots, Seed: int64(*seed),
		Acc: res.Acc, AccNorm: res.AccNorm, Stderr: res.Stderr, N: res.N}, res.AccNormStderr})
}

// printEvalPlan prints a dry run's plan: a summary line on stderr (unless
// quiet) and the JSON on stdout (never to --out: a dry run writes nothing).
func printEvalPlan(quiet bool) func(*evaluate.Plan, error) error {
	return func(plan *evaluate.Plan, err error) error {
		if err != nil {
			return err
		}
		if !quiet {
			fmt.Fprintf(os.Stderr, "eval: dry run: %s, %d docs → %d sequences (%d tokens, longest %d) in %d batches of %d; weights %s + activations %s; first batch %.1fs → about %s in all\n",
				plan.Task, plan.Docs, plan.Sequences, plan.Tokens, plan.MaxSeqLen, plan.Batches, plan.BatchSize,
				llm.FormatBytes(plan.WeightBytes), llm.FormatBytes(plan.ActivationBytes), plan.FirstBatchSeconds,
				progress.Round(time.Duration(plan.EstimatedSeconds*float64(time.Second))))
		}
		return printJSON(plan, "")
	}
}
