package train

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/internal/fileio"
	gombackend "github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// LMRun is one next-token (LM loss) training run on opened values: the
// recipe's training from scratch, teacher correction (Finetune), or the
// plain CE retraining of a pruned model.
type LMRun struct {
	// Model holds the initial weights (float32 masters; llm.InitWeights or a loaded
	// model). TrainLM moves them into its training store: do not use Model
	// afterwards (the trained model is returned).
	Model  *llm.Model
	Tokens *data.Tokens // train split trains; val split validates (Params.ValBatches batches, 0: all)
	Params TrainParams
	OutDir string // metrics.jsonl and checkpoints/ (the caller holds OpenRunDir's lock)
	// Options: Resume continues from OutDir/checkpoints; Log, Progress,
	// Backend (nil: backend.New()), StopAfter.
	Options RecipeOptions
	Bigram  bool // also fit and report the count-based bigram baseline (Report.Bigram)
}

// TrainLM trains run.Model with the LM loss (next-token cross-entropy on
// train-split rows of Params.SeqLen+1 tokens: batches [BatchSize, SeqLen+1]
// int32, AccumSteps micro-batches per update) and returns the report
// (Summary, TrainTokens, ValTokens, Params, Config, Bigram,
// Timings["train"]) and the trained model, nil when the run stopped before
// Params.Steps updates (Options.StopAfter; continue with Options.Resume).
func TrainLM(run LMRun) (*Report, *llm.Model, error) {
	if run.Model == nil || run.Tokens == nil {
		return nil, nil, fmt.Errorf("train: TrainLM needs LMRun.Model and LMRun.Tokens")
	}
	p, log, cfg := run.Params, run.Options.log(), run.Model.Config
	if err := p.validate(); err != nil {
		return nil, nil, err
	}
	backend, err := run.backend()
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Timings: map[string]float64{}, Extra: map[string]any{}}
	computeDType, err := parseDType(p.DType)
	if err != nil {
		return nil, nil, err
	}
	trainIt, err := NewTokenBatches(run.Tokens, data.BatchOptions{Split: data.Train, BatchSize: p.BatchSize, SeqLen: p.SeqLen,
		Seed: p.Seed, Shuffle: true, VocabSize: cfg.VocabSize, MaxContext: cfg.MaxPositions - 1})
	if err != nil {
		return nil, nil, err
	}
	val, err := ValBatches(run.Tokens, data.Val, p.BatchSize, p.SeqLen, p.ValBatches)
	if err != nil {
		return nil, nil, err
	}
	rep.TrainTokens, _ = run.Tokens.SplitLen(data.Train)
	rep.ValTokens = int64(len(val) * p.BatchSize * p.SeqLen)
	if run.Bigram {
		stage := time.Now()
		all := make([]int32, rep.TrainTokens)
		if err := run.Tokens.Read(data.Train, 0, all); err != nil {
			return nil, nil, err
		}
		if rep.Bigram, err = EvaluateBigram(cfg.VocabSize, all, val); err != nil {
			return nil, nil, err
		}
		rep.Timings["bigram"] = time.Since(stage).Seconds()
		fmt.Fprintf(log, "bigram baseline (add-k, best k=%g): val loss %.4f (unigram %.4f) on %d val tokens\n",
			rep.Bigram.BestK, rep.Bigram.BestLoss, rep.Bigram.Unigram, rep.ValTokens)
	}
	store := model.NewStore()
	if err := run.Model.ToStore(store, ModelScope); err != nil {
		return nil, nil, err
	}
	if err := store.SetRNGStateFromSeed(int64(p.Seed)); err != nil { // in-graph randomness (none in the LM loss) is seeded too
		return nil, nil, err
	}
	rep.Params = cfg.Params().Total
	rep.Config = cfg.HF()
	tr, err := New(backend, store, LMLoss(cfg, ModelScope, computeDType), p.trainerConfig())
	if err != nil {
		return nil, nil, err
	}
	if run.Options.Resume {
		path, err := tr.Resume(run.OutDir, trainIt)
		if err != nil {
			return nil, nil, err
		}
		if path != "" {
			fmt.Fprintf(log, "resumed from %s (step %d)\n", path, tr.Step())
		}
	}
	progress := run.Options.Progress
	if progress == nil {
		progress = TerminalProgress(log, p.LogEvery)
	}
	fmt.Fprintf(log, "training %d parameters for %d updates of %d×%d tokens (%d micro-batches each); metrics: %s; checkpoints: %s\n",
		rep.Params, p.Steps, p.BatchSize*max(1, p.AccumSteps), p.SeqLen+1, max(1, p.AccumSteps),
		filepath.Join(run.OutDir, MetricsFile), filepath.Join(run.OutDir, CheckpointsDir))
	stage := time.Now()
	sum, err := tr.Run(RunOptions{OutDir: run.OutDir, Train: trainIt, Val: val, EvalEvery: p.EvalEvery,
		CheckpointEvery: p.CheckpointEvery, KeepCheckpoints: p.KeepCheckpoints, Progress: progress, StopAfter: run.Options.StopAfter})
	rep.Summary = sum
	rep.Timings["train"] = time.Since(stage).Seconds()
	if err != nil {
		return rep, nil, err
	}
	if tr.Step() < p.Steps {
		fmt.Fprintf(log, "stopped after %d of %d updates; resume to continue\n", tr.Step(), p.Steps)
		return rep, nil, nil
	}
	trained, err := llm.ModelFromStore(cfg, store, ModelScope)
	return rep, trained, err
}

func (run LMRun) backend() (compute.Backend, error) {
	if run.Options.Backend != nil {
		return run.Options.Backend, nil
	}
	return gombackend.New()
}

// ExportOptions say what goes beside an exported model's weights.
type ExportOptions struct {
	// DType of the saved weights: "float32", "bfloat16", or "" (the model
	// config's torch_dtype).
	DType string
	// Tokenizer, when loaded from a file, has its tokenizer.json and
	// tokenizer_config.json copied beside the weights.
	Tokenizer *tokenize.Tokenizer
	CopyFiles []string // other side files copied when they exist (e.g. generation_config.json)
}

// ExportLM saves m as a Hugging Face folder dir (replacing one there) with
// the side files of o.
func ExportLM(m *llm.Model, dir string, o ExportOptions) error {
	saveDType := dtypes.InvalidDType // SaveModel's default: the config's torch_dtype
	if o.DType != "" {
		var err error
		if saveDType, err = parseDType(o.DType); err != nil {
			return err
		}
	}
	if err := llm.SaveModel(dir, m, llm.SaveOptions{DType: saveDType, Overwrite: true}); err != nil {
		return err
	}
	files := o.CopyFiles
	if o.Tokenizer != nil && o.Tokenizer.Path() != "" {
		tokDir := o.Tokenizer.Path()
		if st, err := os.Stat(tokDir); err == nil && !st.IsDir() {
			tokDir = filepath.Dir(tokDir)
		}
		for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
			files = append(files, filepath.Join(tokDir, f))
		}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if _, err := fileio.CopySideFile(filepath.Dir(f), filepath.Base(f), filepath.Join(dir, filepath.Base(f))); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	return nil
}

// runLM composes TrainLM, ExportLM into OutDir/ModelDir and GreedySamples
// (when export.Tokenizer is set): the training part of RunRecipe and
// Finetune.
func runLM(run LMRun, export ExportOptions) (*Report, error) {
	log := run.Options.log()
	rep, trained, err := TrainLM(run)
	if err != nil || trained == nil {
		return rep, err
	}
	export.DType = run.Params.SaveDType
	rep.Model = filepath.Join(run.OutDir, ModelDir)
	if err := ExportLM(trained, rep.Model, export); err != nil {
		return rep, err
	}
	fmt.Fprintf(log, "exported %s\n", rep.Model)
	if export.Tokenizer != nil {
		backend, err := run.backend()
		if err != nil {
			return rep, err
		}
		if rep.Samples, err = GreedySamples(backend, trained, export.Tokenizer, SamplePrompts, 32); err != nil {
			return rep, err
		}
		for _, s := range rep.Samples {
			fmt.Fprintf(log, "sample: %q → %q\n", s.Prompt, s.Completion)
		}
	}
	if rep.Bigram != nil {
		fmt.Fprintf(log, "val loss %.4f vs bigram %.4f\n", rep.Summary.ValLoss, rep.Bigram.BestLoss)
	}
	return rep, nil
}

// GreedySamples continues each prompt greedily for n tokens with m
// (ids beyond the tokenizer's vocabulary, e.g. padding rows, are dropped).
func GreedySamples(backend compute.Backend, m *llm.Model, tok *tokenize.Tokenizer, prompts []string, n int) ([]Sample, error) {
	r, err := llm.NewRunner(backend, m)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Sample
	for _, p := range prompts {
		ids := tok.Encode(p, false)
		gen, err := r.Generate([][]int32{ids}, llm.GenerateOptions{MaxNewTokens: n})
		if err != nil {
			return nil, err
		}
		var newIDs []int32 // ids the tokenizer knows (a model vocab may be padded beyond it)
		for _, id := range gen[0][len(ids):] {
			if int(id) < tok.VocabSize() {
				newIDs = append(newIDs, id)
			}
		}
		text, err := tok.Decode(newIDs, false)
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{Prompt: p, Completion: text})
	}
	return out, nil
}
