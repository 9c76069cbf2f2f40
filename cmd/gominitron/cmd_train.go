package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gominitron/gominitron/ops/train"
)

func runTrain(args []string) error {
	fs := newFlagSet("train", "usage: gominitron train --recipe FILE --out DIR [--resume] [--stop-after N] [--steps N]")
	recipe := fs.String("recipe", "", "recipe JSON (e.g. recipes/teacher-cpu.json)")
	out := fs.String("out", "", "output folder: metrics.jsonl, checkpoints/, tokenizer/, data.tokens, model/ (HF folder), report.json")
	resume := fs.Bool("resume", false, "continue from the newest checkpoint in --out")
	stopAfter := fs.Int("stop-after", 0, "stop after this many updates (counted from 0), with a checkpoint; continue later with --resume")
	steps := fs.Int("steps", 0, "override the recipe's number of updates")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFlags(fs, nonNegative("stop-after"), nonNegative("steps")); err != nil {
		return err
	}
	if *recipe == "" || *out == "" || fs.NArg() > 0 {
		return errors.New("usage: gominitron train --recipe FILE --out DIR [--resume] [--stop-after N] [--steps N]")
	}
	r, err := train.LoadRecipe(*recipe)
	if err != nil {
		return err
	}
	if *steps > 0 {
		r.Train.Steps = *steps
	}
	rep, err := train.RunRecipe(r, *out, train.RecipeOptions{Resume: *resume, StopAfter: *stopAfter,
		Command: "gominitron " + strings.Join(os.Args[1:], " ")})
	if err != nil {
		return err
	}
	return printJSON(rep, "")
}

func runFinetune(args []string) error {
	fs := newFlagSet("finetune", "usage: gominitron finetune --model DIR --data PATH[,PATH...] --out DIR [flags]")
	var o train.FinetuneOptions
	fs.StringVar(&o.ModelDir, "model", "", "Hugging Face model folder to fine-tune (left unchanged)")
	dataFlag := fs.String("data", "", "token file from 'gominitron data pack', or comma-separated text/JSONL/Parquet files")
	fs.StringVar(&o.Field, "field", "text", "JSON Lines field / Parquet column with the text")
	fs.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.json or folder for packing text (default: the model folder)")
	fs.StringVar(&o.OutDir, "out", "", "output folder: metrics.jsonl, checkpoints/, model/ (fine-tuned HF folder), report.json")
	fs.Float64Var(&o.OriginalPeakLR, "original-peak-lr", train.DefaultOriginalPeakLR, "the model's original pre-training peak LR")
	fs.Float64Var(&o.LRFactor, "lr-factor", train.CorrectionLRFactor, "fine-tuning peak LR = original-peak-lr × lr-factor (paper: 1/5)")
	fs.Float64Var(&o.Train.PeakLR, "peak-lr", 0, "set the peak LR directly (overrides original-peak-lr × lr-factor)")
	fs.Float64Var(&o.Train.MinLR, "min-lr", 0, "final LR of the cosine decay (default peak/10)")
	fs.IntVar(&o.Train.WarmupSteps, "warmup", 0, fmt.Sprintf("linear warm-up updates (default %d, at most steps/2)", train.CorrectionWarmup))
	fs.IntVar(&o.Train.Steps, "steps", 200, "optimizer updates")
	fs.IntVar(&o.Train.SeqLen, "seq-len", 128, "tokens predicted per row")
	fs.IntVar(&o.Train.BatchSize, "batch", 8, "rows per micro-batch")
	fs.IntVar(&o.Train.AccumSteps, "accum", 1, "micro-batches per update")
	fs.Float64Var(&o.Train.WeightDecay, "weight-decay", 0.1, "AdamW decoupled weight decay (not on norms and biases)")
	fs.Float64Var(&o.Train.ClipNorm, "clip", 1.0, "global gradient-norm clip (0: off)")
	fs.StringVar(&o.Train.DType, "dtype", "float32", "compute dtype: float32 or bfloat16 (float32 master weights)")
	fs.StringVar(&o.Train.SaveDType, "save-dtype", "", "dtype of the exported weights: float32 or bfloat16 (default: the source model's)")
	fs.IntVar(&o.Train.EvalEvery, "eval-every", 0, "validate every N updates (default steps/10)")
	fs.IntVar(&o.Train.ValBatches, "val-batches", 20, "validation batches (0: whole split)")
	fs.IntVar(&o.Train.CheckpointEvery, "checkpoint-every", 0, "checkpoint every N updates (default steps/5)")
	fs.IntVar(&o.Train.KeepCheckpoints, "keep", 2, "checkpoints kept")
	fs.IntVar(&o.Train.LogEvery, "log-every", 10, "progress line every N updates")
	fs.Float64Var(&o.ValFraction, "val", 0.05, "validation fraction when packing text")
	fs.BoolVar(&o.Resume, "resume", false, "continue from the newest checkpoint in --out")
	fs.IntVar(&o.StopAfter, "stop-after", 0, "stop after this many updates, with a checkpoint")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFlags(fs, positive("original-peak-lr"), positive("lr-factor"), nonNegative("peak-lr"), nonNegative("min-lr"), nonNegative("warmup"),
		positive("steps"), positive("seq-len"), positive("batch"), positive("accum"), nonNegative("weight-decay"), nonNegative("clip"),
		nonNegative("eval-every"), nonNegative("val-batches"), nonNegative("checkpoint-every"), positive("keep"), positive("log-every"),
		positive("val"), nonNegative("stop-after")); err != nil {
		return err
	}
	if o.ModelDir == "" || *dataFlag == "" || o.OutDir == "" || fs.NArg() > 0 {
		return errors.New("usage: gominitron finetune --model DIR --data PATH[,PATH...] --out DIR [flags]")
	}
	o.Data = strings.Split(*dataFlag, ",")
	o.Train.Beta1, o.Train.Beta2, o.Train.Seed = 0.9, 0.95, 1
	o.Command = "gominitron " + strings.Join(os.Args[1:], " ")
	rep, err := train.Finetune(o)
	if err != nil {
		return err
	}
	return printJSON(rep, "")
}
