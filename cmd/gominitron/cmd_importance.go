package main

import (
	"fmt"
	"github.com/gominitron/gominitron/internal/progress"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
)

func runImportance(args []string) error {
	fs := newFlagSet("importance",
		"usage: gominitron importance --model DIR (--input IN.safetensors | --data PATH --samples N --seq-len L)",
		"         [--batch B] [--batch-agg l2|mean|var --seq-agg mean|l2|var] [--blocks K] [--bootstrap K] (--out scores.json | --dry-run)")
	modelDir := fs.String("model", "", "Hugging Face model folder (config.json + safetensors)")
	input := fs.String("input", "", "calibration tokens: .safetensors with input_ids [samples, seqLen] (+ optional attention_mask, right padding)")
	data := fs.String("data", "", "calibration data to sample windows from: a token file (gominitron data pack) or a text corpus (text/folder/.jsonl/.parquet, tokenized with the model's tokenizer)")
	samples := fs.Int("samples", 1024, "--data: number of calibration sequences")
	seqLen := fs.Int("seq-len", 0, "--data: tokens per sequence (default min(max_position_embeddings, 2048))")
	seed := fs.Uint64("seed", 1234, "--data: sampling seed")
	split := fs.String("split", "train", "--data token file: split to sample from (train or val)")
	tokPath := fs.String("tokenizer", "", "--data text corpus: tokenizer.json / tokenizer.model or folder (default: the model folder)")
	batch := fs.Int("batch", importance.DefaultBatchSize, "sequences per forward pass")
	batchAgg := fs.String("batch-agg", "l2", "reduction over sequences: l2, mean or var")
	seqAgg := fs.String("seq-agg", "mean", "reduction over positions: mean (of |x|), l2 or var")
	blocks := fs.Int("blocks", 0, "also score every contiguous block of K layers removed (block_lm_loss)")
	bootstrap := fs.Int("bootstrap", 0, "split the batches into K ≥ 2 disjoint parts and report the Spearman rank correlation of every axis between parts")
	skipMode := fs.String("skip-mode", "auto", "how ablations remove layers: masked (one compilation for all patterns), static (one per pattern, removed layers not computed) or auto (reuse the full model's per-layer inputs: only layers after the removed ones run)")
	dtype := dtypeFlag(fs, "float32", "compute dtype: float32, bfloat16 or float16 (reductions are float32; weights keep their stored dtype unless this is narrower)")
	out := fs.String("out", "", "scores JSON (results.Importance keys; written atomically)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	dryRun := fs.Bool("dry-run", false, "print the plan (batches, passes, memory, time estimated from a run on the first batch) as JSON and write nothing")
	if err := parseFlags(fs, args, positive("samples"), nonNegative("seq-len"), positive("batch"), nonNegative("blocks"), nonNegative("bootstrap")); err != nil {
		return err
	}
	switch {
	case *modelDir == "":
		return fmt.Errorf("--model is required")
	case *out == "" && !*dryRun:
		return fmt.Errorf("--out is required (or --dry-run)")
	case (*input == "") == (*data == ""):
		return fmt.Errorf("give exactly one of --input and --data")
	}
	if err := checkOutputFlag("out", *out, *modelDir, *input, *data, *tokPath); err != nil {
		return err
	}
	agg, err := importance.ParseAggregation(*batchAgg, *seqAgg)
	if err != nil {
		return fmt.Errorf("--batch-agg/--seq-agg: %w", err)
	}
	skip, ok := map[string]importance.SkipMode{"auto": importance.SkipAuto, "masked": importance.SkipMasked, "static": importance.SkipStatic}[*skipMode]
	if !ok {
		return fmt.Errorf("--skip-mode %q: want auto, masked or static", *skipMode)
	}

	log := io.Writer(os.Stderr)
	if *quiet {
		log = io.Discard
	}
	var calib *importance.Calibration
	if *input != "" {
		if calib, err = importance.ReadCalibration(*input); err != nil {
			return fmt.Errorf("--input: %w", err)
		}
	} else {
		cfg, err := llm.LoadConfig(*modelDir)
		if err != nil {
			return err
		}
		if *seqLen == 0 {
			*seqLen = 2048
			if cfg.MaxPositions > 0 {
				*seqLen = min(cfg.MaxPositions, 2048)
			}
		}
		calib, err = importance.SampleCalibration(*data, cfg, importance.SampleOptions{Samples: *samples, SeqLen: *seqLen,
			Seed: *seed, Split: *split, TokenizerPath: *tokPath, ModelDir: *modelDir, Log: log})
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
	}

	m, be, err := loadModel(*modelDir, *dtype)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "importance: %s, %d samples × %d tokens (%d valid), batch %d, %s\n",
		*modelDir, len(calib.IDs), calib.SeqLen(), calib.Tokens(), *batch, agg)
	meter := &progress.Stages{W: log, Prefix: "importance"}
	opts := importance.Options{
		Aggregation: agg,
		BatchSize:   *batch,
		DType:       *dtype,
		DropOne:     true,
		BlockSize:   *blocks,
		Parts:       *bootstrap,
		Skip:        skip,
		ModelID:     *modelDir,
		Progress: func(stage string, done, total int) {
			meter.Update(stage, int64(done), int64(total), "")
		},
	}
	if *dryRun {
		plan, err := importance.DryRun(be, m, calib, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "importance: dry run: %d batches of %d × %d tokens; passes %v; weights %s + activations %s; first batch %.1fs → about %s in all\n",
			plan.Batches, plan.BatchSize, plan.SeqLen, plan.Stages, llm.FormatBytes(plan.WeightBytes), llm.FormatBytes(plan.ActivationBytes),
			plan.FirstBatchSeconds, progress.Round(time.Duration(plan.EstimatedSeconds*float64(time.Second))))
		return printJSON(plan, "")
	}
	s, err := importance.EstimateModel(be, m, calib, opts)
	if err != nil {
		return err
	}
	if err := s.Save(*out); err != nil {
		return err
	}
	printImportanceSummary(log, s)
	fmt.Fprintf(log, "importance: wrote %s\n", *out)
	return nil
}

// printImportanceSummary writes a human-readable digest: losses, layer
// scores, per-group head rankings and rank stability.
func printImportanceSummary(w io.Writer, s *importance.Scores) {
	fmt.Fprintf(w, "lm_loss %.4f   (%d tokens, %.1fs)\n", s.LMLoss, s.Tokens, s.DurationSec)
	fmt.Fprintln(w, "layer  bi        drop_one_lm_loss  head ranking per KV group")
	for l := range s.BI {
		groups := make([]string, len(s.HeadRankByGroup[l]))
		for g, heads := range s.HeadRankByGroup[l] {
			groups[g] = strings.Trim(fmt.Sprint(heads), "[]")
		}
		fmt.Fprintf(w, "%5d  %.6f  %.4f            %s\n", l, s.BI[l], s.DropOneLMLoss[l], strings.Join(groups, " | "))
	}
	if s.BlockLMLoss != nil {
		best := importance.Ranking(negated(s.BlockLMLoss))[0]
		fmt.Fprintf(w, "block_lm_loss (k=%d): %.4f → lowest loss removing layers %d..%d\n",
			s.BlockSize, s.BlockLMLoss, best, best+s.BlockSize-1)
	}
	if s.StabilitySummary != nil {
		axes := slices.Sorted(maps.Keys(s.StabilitySummary))
		fmt.Fprintf(w, "rank stability over %d parts (Spearman mean / min):", s.RankStability.Parts)
		for _, a := range axes {
			fmt.Fprintf(w, "  %s %.3f/%.3f", a, s.StabilitySummary[a].Mean, s.StabilitySummary[a].Min)
		}
		fmt.Fprintln(w)
	}
}

func negated(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = -x
	}
	return out
}
