package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/gominitron/gominitron/reproduce"
)

// envFlags are the flags shared by reproduce and search.
type envFlags struct {
	o reproduce.Options
}

func (f *envFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.o.Corpus, "corpus", "", "text corpus for training batches and the next-sentence task (default data/brown/brown.jsonl, fetched when missing)")
	fs.StringVar(&f.o.Data, "data", "", "token file of the corpus packed with the teacher's tokenizer (default: packed once into OUT/data/)")
	fs.Float64Var(&f.o.ValFraction, "val-fraction", 0, "validation fraction of the corpus documents when packing (default 0.02, as the teacher recipes)")
	fs.StringVar(&f.o.Scale, "scale", "cpu", "sizes: smoke (seconds), cpu (about an hour for all on 2 cores), gpu (an H100)")
	fs.Uint64Var(&f.o.Seed, "seed", reproduce.DefaultSeed, "experiment seed (calibration windows, data order, initialization, task items)")
	fs.IntVar(&f.o.Seeds, "seeds", 0, "repeats of every experiment, each with its own calibration draw and data order (verdicts need 3; default: the scale's)")
	fs.StringVar(&f.o.Out, "out", "", "results folder: OUT/<experiment>/{table.md,result.json,*.png}")
}

// reportCommand is `reproduce report`: regenerate tables and plots from
// stored results.
const reportCommand = "report"

func runReproduce(args []string) error {
	if len(args) > 0 && args[0] == reportCommand {
		return runReproduceReport(args[1:])
	}
	usage := "usage: gominitron reproduce EXPERIMENT [--scale smoke|cpu|gpu] --out DIR [--teacher DIR] [--corpus PATH] [--data FILE] [--seed N] [--seeds N]\n  EXPERIMENT: " +
		strings.Join(reproduce.Experiments, ", ") + " or all\n   or: gominitron reproduce report --from DIR [--out DIR] [--doc FILE]"
	fs := newFlagSet("reproduce", usage)
	var f envFlags
	f.register(fs)
	fs.StringVar(&f.o.Teacher, "teacher", "", "teacher Hugging Face folder with tokenizer.json (default models/demo-teacher)")
	// The experiment may come before or after the flags.
	var exp string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		exp, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if exp == "" && fs.NArg() > 0 {
		exp = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if exp == "" || fs.NArg() > 0 {
		return errors.New(usage)
	}
	if exp == reportCommand {
		return errors.New("usage: gominitron reproduce report --from DIR [--out DIR] [--doc FILE] (report takes no experiment flags)")
	}
	if err := checkFlags(fs, nonNegative("val-fraction"), nonNegative("seeds")); err != nil {
		return err
	}
	if f.o.Out == "" {
		return fmt.Errorf("--out is required\n%s", usage)
	}
	names := []string{exp}
	if exp == reproduce.ExpAll {
		names = reproduce.Experiments
	}
	for _, n := range names {
		if !isExperiment(n) {
			return fmt.Errorf("unknown experiment %q\n%s", exp, usage)
		}
	}
	f.o.Log = os.Stderr
	env, err := reproduce.Open(f.o)
	if err != nil {
		return err
	}
	defer env.Close()
	reports, err := env.RunAll(names...)
	if err != nil {
		return err
	}
	return printVerdicts(reports)
}

func isExperiment(n string) bool {
	for _, e := range reproduce.Experiments {
		if e == n {
			return true
		}
	}
	return false
}

// printVerdicts writes one JSON object per experiment on stdout.
func printVerdicts(reports []*reproduce.Report) error {
	type verdict struct {
		Experiment string  `json:"experiment"`
		Reproduced bool    `json:"reproduced"`
		Verdict    string  `json:"verdict"`
		ElapsedSec float64 `json:"elapsed_s"`
	}
	out := make([]verdict, 0, len(reports))
	for _, r := range reports {
		out = append(out, verdict{r.Experiment, r.Reproduced, r.Verdict, r.ElapsedSec})
	}
	return printJSON(out, "")
}

// runReproduceReport re-judges stored results (DIR/<experiment>/result.json)
// without training: tables and plots into OUT/<experiment>/, and the
// generated tables of a markdown document.
func runReproduceReport(args []string) error {
	usage := "usage: gominitron reproduce report --from DIR [--out DIR] [--doc FILE]"
	fs := newFlagSet("reproduce report", usage)
	from := fs.String("from", "", "stored results: DIR/<experiment>/result.json (e.g. docs/results)")
	out := fs.String("out", "", "where table.md and the plots go: OUT/<experiment>/ (default: beside each result.json, which is never rewritten)")
	doc := fs.String("doc", "", "markdown file whose <!-- reproduce:table NAME --> blocks are rewritten (e.g. docs/results.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || fs.NArg() > 0 {
		return errors.New(usage)
	}
	if *out == "" {
		*out = *from
	}
	reports, err := reproduce.Regenerate(*from, *out)
	if err != nil {
		return err
	}
	if *doc != "" {
		if err := reproduce.UpdateDocFile(*doc, reports); err != nil {
			return err
		}
	}
	return printVerdicts(reports)
}
