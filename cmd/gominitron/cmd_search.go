package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/gominitron/gominitron/reproduce"
	"github.com/gominitron/gominitron/results"
)

func init() {
	register(&command{name: "search", summary: "architecture search: distill every shape within ±5% of a parameter budget briefly, pick the best, report ranking stability", run: runSearch})
}

func runSearch(args []string) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	usage := "usage: gominitron search --model DIR --importance FILE --params N --steps S --out DIR [--candidates K] [--eval-every E] [--tolerance 0.05] [--corpus PATH | --data FILE] [--scale smoke|cpu|gpu]"
	fs.Usage = func() { fmt.Fprintln(fs.Output(), usage); fs.PrintDefaults() }
	var f envFlags
	f.register(fs)
	var so reproduce.SearchOptions
	fs.StringVar(&f.o.Teacher, "model", "", "teacher (source) Hugging Face folder with tokenizer.json")
	impPath := fs.String("importance", "", "importance scores of the model with drop_one_lm_loss (gominitron importance); empty: estimated")
	fs.Int64Var(&so.Params, "params", 0, "parameter budget (default half the model)")
	fs.IntVar(&so.Steps, "steps", 0, "distillation steps per candidate (default: the scale's)")
	fs.IntVar(&so.EvalEvery, "eval-every", 0, "validate (ranking checkpoint) every N steps (default: the scale's)")
	fs.IntVar(&so.Candidates, "candidates", 0, "shapes distilled, spread over the enumerated ones (default: the scale's)")
	fs.Float64Var(&so.Tolerance, "tolerance", reproduce.DefaultSearchTolerance, "± fraction of the budget")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFlags(fs, nonNegative("params"), nonNegative("steps"), nonNegative("eval-every"), nonNegative("candidates"), positive("tolerance")); err != nil {
		return err
	}
	if fs.NArg() > 0 || f.o.Teacher == "" || f.o.Out == "" {
		return errors.New(usage)
	}
	if *impPath != "" {
		imp, err := results.LoadImportance(*impPath)
		if err != nil {
			return err
		}
		so.Importance = imp
	}
	f.o.Log = os.Stderr
	env, err := reproduce.Open(f.o)
	if err != nil {
		return err
	}
	defer env.Close()
	r, err := env.Search(so)
	if err != nil {
		return err
	}
	if err := r.Save(f.o.Out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "search: %s\n", r.Verdict)
	return printVerdicts([]*reproduce.Report{r})
}
