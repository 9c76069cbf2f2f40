package main

import (
	"fmt"
	"os"
	"time"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/internal/progress"
	"github.com/gominitron/gominitron/ops/distill"
	"github.com/gominitron/gominitron/ops/train"
)

const distillUsage = `usage: gominitron distill --teacher DIR --student DIR --data PATH --steps N --out DIR
    [--batch B --seq-len L --accum K --lr --min-lr --warmup --clip --seed]
    [--loss kl|rkl|jsd --temperature T --jsd-beta B --top-k K --ce-weight W]
    [--intermediate MAP --intermediate-loss cosine|mse --embedding-loss --alpha A]
    [--chunk C --pad-id ID --dtype float32|bfloat16 --val-batches N --eval-every N --checkpoint-every N]
    [--resume --stop-after N --run-dir DIR --log-every N --dry-run]`

func runDistill(args []string) error {
	fs := newFlagSet("distill", distillUsage)
	var o distill.Options
	fs.StringVar(&o.Teacher, "teacher", "", "teacher Hugging Face folder (frozen)")
	fs.StringVar(&o.Student, "student", "", "student Hugging Face folder, e.g. a pruned model (never modified)")
	fs.StringVar(&o.Data, "data", "", "token file from `gominitron data pack` (train split trains, val split validates), or a text corpus (text/JSONL/Parquet, file or folder) packed once with the teacher's tokenizer (val 5%, seed 1) into $GOMINITRON_DATA/token-cache")
	fs.StringVar(&o.Out, "out", "", "exported student folder (must not exist or be empty); training state goes to --run-dir")
	fs.StringVar(&o.RunDir, "run-dir", "", "metrics.jsonl and checkpoints/ (default OUT.run)")
	fs.IntVar(&o.Steps, "steps", 0, "optimizer updates")
	fs.IntVar(&o.BatchSize, "batch", distill.DefaultBatchSize, "sequences per micro-batch")
	fs.IntVar(&o.SeqLen, "seq-len", distill.DefaultSeqLen, "positions per sequence (rows hold seq-len+1 tokens)")
	fs.IntVar(&o.Accum, "accum", 1, "micro-batches per update")
	fs.Float64Var(&o.PeakLR, "lr", distill.DefaultPeakLR, "peak learning rate")
	fs.Float64Var(&o.MinLR, "min-lr", distill.DefaultMinLR, "final learning rate of the cosine decay")
	fs.IntVar(&o.Warmup, "warmup", -1, "linear warm-up updates (-1: 40, capped at --steps)")
	fs.Float64Var(&o.ClipNorm, "clip", distill.DefaultClipNorm, "global gradient-norm clip")
	seed := fs.Uint64("seed", 1, "data order and projection init seed")
	loss := fs.String("loss", "kl", "kl (forward KL, the paper's), rkl or jsd (plain LM-loss retraining, no teacher: gominitron finetune)")
	fs.Float64Var(&o.Loss.Logits.Temperature, "temperature", 1, "softmax temperature τ (losses × τ² when τ ≠ 1)")
	fs.Float64Var(&o.Loss.Logits.Beta, "jsd-beta", 0.5, "β of the generalized JSD")
	fs.IntVar(&o.Loss.Logits.TopK, "top-k", 0, "keep the teacher's top-K logits (kl only; 0 = full vocabulary)")
	fs.Float64Var(&o.Loss.CEWeight, "ce-weight", 0, "weight of the ground-truth next-token CE term")
	fs.StringVar(&o.Intermediate, "intermediate", "", "intermediate-state layer map: default (last-2:last-2, by depth fraction when shallower) or s:t,s:t (numbers, last, last-K); empty = off")
	isLoss := fs.String("intermediate-loss", "cosine", "cosine (1 − cos) or mse")
	fs.BoolVar(&o.Loss.EmbeddingLoss, "embedding-loss", false, "also match the embedding outputs through the projection")
	fs.Float64Var(&o.Loss.Alpha, "alpha", 0, "fixed weight of the intermediate loss (0 = dynamic α = L_logits/L_is each step)")
	fs.IntVar(&o.Loss.ChunkSize, "chunk", 0, "compute the logits losses over chunks of this many positions (long sequences; 0 = whole)")
	padID := fs.Int("pad-id", -1, "token id whose positions are masked out (-1 = none)")
	dtype := fs.String("dtype", "float32", "compute dtype of both forwards: float32 or bfloat16 (losses always float32)")
	fs.IntVar(&o.ValBatches, "val-batches", distill.DefaultValBatches, "validation batches from the val split (-1 = none)")
	fs.IntVar(&o.EvalEvery, "eval-every", 0, "validate every N updates (always after the last)")
	fs.IntVar(&o.CheckpointEvery, "checkpoint-every", 0, "checkpoint every N updates (always after the last)")
	fs.BoolVar(&o.Resume, "resume", false, "continue from the newest checkpoint in --run-dir")
	fs.IntVar(&o.StopAfter, "stop-after", 0, "stop after this many updates with a checkpoint (continue with --resume)")
	logEvery := fs.Int("log-every", 10, "progress line on stderr every N updates")
	dryRun := fs.Bool("dry-run", false, "print the plan (memory, tokens per step, time estimated from two measured steps) as JSON; write and lock nothing")
	if err := parseFlags(fs, args, positive("batch"), positive("seq-len"), positive("accum"), positive("lr"), positive("min-lr"), atLeast("warmup", -1), positive("clip"),
		positive("temperature"), nonNegative("jsd-beta"), nonNegative("top-k"), nonNegative("ce-weight"), nonNegative("alpha"), nonNegative("chunk"), atLeast("pad-id", -1),
		atLeast("val-batches", -1), nonNegative("eval-every"), nonNegative("checkpoint-every"), nonNegative("stop-after"), nonNegative("log-every")); err != nil {
		return err
	}
	if *loss == "ce" {
		return fmt.Errorf("--loss ce: plain LM-loss retraining has no teacher and is `gominitron finetune` now; distill's schedule is " +
			"gominitron finetune --model STUDENT --data DATA --out DIR --steps N --peak-lr 1e-4 --min-lr 1e-5 --warmup 40")
	}
	if o.Student == "" || o.Data == "" || o.Out == "" || o.Steps <= 0 {
		return fmt.Errorf("--student, --data, --out and --steps are required\n%s", distillUsage)
	}
	o.Seed = *seed
	if *padID >= 0 {
		o.Loss.PadID = padID
	}
	var err error
	if o.Loss.Logits.Kind, err = distill.ParseDivergence(*loss); err != nil {
		return fmt.Errorf("--loss: %w", err)
	}
	if o.Teacher == "" {
		return fmt.Errorf("--teacher is required")
	}
	if o.Loss.ISLoss, err = distill.ParseISLoss(*isLoss); err != nil {
		return fmt.Errorf("--intermediate-loss: %w", err)
	}
	switch *dtype {
	case "float32":
		o.DType = dtypes.Float32
	case "bfloat16":
		o.DType = dtypes.BFloat16
	default:
		return fmt.Errorf("--dtype %q: want float32 or bfloat16", *dtype)
	}
	if *dryRun {
		plan, err := distill.DryRun(o)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "distill: dry run: %d steps of %d tokens; first step %.2fs (compiling), then %.2fs a step → about %s in all (validation not included)\n",
			plan.Steps, plan.TokensPerStep, plan.FirstStepSeconds, plan.StepSeconds, progress.Round(time.Duration(plan.EstimatedSeconds*float64(time.Second))))
		return printJSON(plan, "")
	}
	o.Progress = train.TerminalProgress(os.Stderr, *logEvery)
	lin, err := distill.Run(o)
	if err != nil {
		return err
	}
	return printJSON(lin, "")
}
