package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gominitron/gominitron/internal/progress"
	"github.com/gominitron/gominitron/ops/prune"
)

func runPrune(args []string) error {
	fs := newFlagSet("prune",
		"usage: gominitron prune --model DIR --importance scores.json --out DIR2 [--hidden N] [--ffn N] [--heads-per-group N] [--layers N | --drop-layers 3,4,5 | --drop-block K] [--round M]")
	modelDir := fs.String("model", "", "source Hugging Face model folder (never modified)")
	scores := fs.String("importance", "", "importance scores JSON (gominitron importance); optional for --drop-layers alone")
	out := fs.String("out", "", "output folder (must not exist or be empty)")
	var p prune.Plan
	fs.IntVar(&p.Hidden, "hidden", 0, "target hidden size (0 = keep)")
	fs.IntVar(&p.FFN, "ffn", 0, "target FFN (intermediate) size (0 = keep)")
	fs.IntVar(&p.HeadsPerGroup, "heads-per-group", 0, "query heads kept per KV group (0 = keep)")
	fs.IntVar(&p.Layers, "layers", 0, "keep this many layers, the most important by --layer-score (0 = keep all)")
	fs.StringVar(&p.LayerScore, "layer-score", "", "layer score for --layers: drop_one_lm_loss (default) or bi")
	dropLayers := fs.String("drop-layers", "", "comma-separated 0-based layers to remove, e.g. 3,4,5")
	fs.IntVar(&p.DropBlock, "drop-block", 0, "remove the best contiguous block of K layers (needs block scores of size K)")
	fs.StringVar(&p.BlockScore, "block-score", "", "block score for --drop-block: block_lm_loss (default; lowest loss) or block_scores (e.g. downstream accuracy)")
	fs.IntVar(&p.Round, "round", 0, "round the hidden and FFN targets to a multiple of M (nearest, ≤ current)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parseFlags(fs, args, nonNegative("hidden"), nonNegative("ffn"), nonNegative("heads-per-group"), nonNegative("layers"), nonNegative("drop-block"), nonNegative("round")); err != nil {
		return err
	}
	if *modelDir == "" || *out == "" {
		return fmt.Errorf("--model and --out are required")
	}
	if *dropLayers != "" {
		var err error
		if p.DropLayers, err = prune.ParseLayerList(*dropLayers); err != nil {
			return err
		}
	}
	var opts []prune.DirOption
	if !*quiet {
		meter := &progress.Stages{W: os.Stderr, Prefix: "prune"}
		opts = append(opts, prune.WithProgress(func(done, total int) { meter.Update("", int64(done), int64(total), "tensors") }))
	}
	summary, err := prune.Dir(*modelDir, *scores, *out, p, opts...)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(summary)
}
