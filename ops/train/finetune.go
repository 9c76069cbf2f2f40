package train

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/results"
)

// Teacher-correction defaults (Sreenivas et al. 2024, "LLM Pruning and
// Distillation in Practice", §teacher correction: ~120 warm-up steps, LR =
// 1/5 of the original pre-training peak, the same cosine schedule).
const (
	CorrectionWarmup   = 120
	CorrectionLRFactor = 0.2
	// DefaultOriginalPeakLR is assumed when the source model's pre-training
	// peak LR is not given: 1e-4, the peak the Minitron papers use for
	// distillation of Llama-3.1-8B / Mistral-NeMo-12B. Pass the real one
	// (e.g. 3e-4 for Llama-3-8B) when known.
	DefaultOriginalPeakLR = 1e-4
)

// FinetuneOptions configures teacher correction.
type FinetuneOptions struct {
	ModelDir string // Hugging Face folder to fine-tune (never modified)
	// Data is a token file written by `gominitron data pack`, or text /
	// JSONL / Parquet corpus files packed here with Tokenizer.
	Data      []string
	Field     string // JSONL field / Parquet column (default "text")
	Tokenizer string // tokenizer.json or folder (default: ModelDir)
	OutDir    string

	// OriginalPeakLR is the source model's pre-training peak LR; the
	// fine-tuning peak is OriginalPeakLR × LRFactor. Defaults:
	// DefaultOriginalPeakLR and CorrectionLRFactor.
	OriginalPeakLR float64
	LRFactor       float64
	// Train holds the remaining settings. Zero fields get defaults:
	// WarmupSteps CorrectionWarmup (capped at Steps/2), MinLR peak/10,
	// Beta1 0.9, Beta2 0.95, WeightDecay 0.1, ClipNorm 1, SeqLen 128,
	// BatchSize 8, Steps 200, EvalEvery Steps/10, CheckpointEvery Steps/5,
	// KeepCheckpoints 2, LogEvery 10, Seed 1.
	Train       TrainParams
	ValFraction float64 // when packing corpus files (default 0.05)
	RecipeOptions
}

// Finetune fine-tunes a Hugging Face model on a corpus (teacher correction)
// and exports the result to OutDir/model (with the tokenizer files copied
// when found). Metrics and checkpoints go to OutDir as for RunRecipe.
func Finetune(o FinetuneOptions) (*Report, error) {
	log := o.log()
	if o.ModelDir == "" || o.OutDir == "" || len(o.Data) == 0 {
		return nil, fmt.Errorf("train: finetune needs a model folder, data and an output folder")
	}
	if abs(o.ModelDir) == abs(o.OutDir) || abs(filepath.Join(o.OutDir, ModelDir)) == abs(o.ModelDir) {
		return nil, fmt.Errorf("train: FinetuneOptions.OutDir %s would overwrite the source model %s", o.OutDir, o.ModelDir)
	}
	if latest, _ := LatestCheckpoint(filepath.Join(o.OutDir, CheckpointsDir)); latest != "" && !o.Resume {
		return nil, fmt.Errorf("train: %s already holds checkpoints (newest %s): set FinetuneOptions.Resume to continue, or choose another FinetuneOptions.OutDir", o.OutDir, latest)
	}
	p := o.Train
	if o.OriginalPeakLR == 0 {
		o.OriginalPeakLR = DefaultOriginalPeakLR
	}
	if o.LRFactor == 0 {
		o.LRFactor = CorrectionLRFactor
	}
	setDefault := func(x *int, v int) {
		if *x == 0 {
			*x = v
		}
	}
	setDefaultF := func(x *float64, v float64) {
		if *x == 0 {
			*x = v
		}
	}
	setDefault(&p.Steps, 200)
	setDefault(&p.SeqLen, 128)
	setDefault(&p.BatchSize, 8)
	setDefault(&p.WarmupSteps, min(CorrectionWarmup, p.Steps/2))
	setDefault(&p.EvalEvery, max(1, p.Steps/10))
	setDefault(&p.CheckpointEvery, max(1, p.Steps/5))
	setDefault(&p.KeepCheckpoints, 2)
	setDefault(&p.LogEvery, 10)
	if p.PeakLR == 0 {
		p.PeakLR = o.OriginalPeakLR * o.LRFactor
	}
	setDefaultF(&p.MinLR, p.PeakLR/10)
	setDefaultF(&p.Beta1, 0.9)
	setDefaultF(&p.Beta2, 0.95)
	setDefaultF(&p.WeightDecay, 0.1)
	setDefaultF(&p.ClipNorm, 1)
	if p.Seed == 0 {
		p.Seed = 1
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	stage := time.Now()
	cfg, err := llm.LoadConfig(o.ModelDir)
	if err != nil {
		return nil, err
	}
	if cfg.MaxPositions > 0 && p.SeqLen+1 > cfg.MaxPositions {
		return nil, fmt.Errorf("train: seq_len %d + 1 exceeds the model's max_position_embeddings %d", p.SeqLen, cfg.MaxPositions)
	}
	if err := fileio.CheckOutput(o.OutDir, append([]string{o.ModelDir, o.Tokenizer}, o.Data...)...); err != nil {
		return nil, fmt.Errorf("train: output folder: %w", err)
	}
	if err := llm.CheckFits(fmt.Sprintf("train: fine-tuning %s on batches of %d × %d tokens", o.ModelDir, p.BatchSize, p.SeqLen),
		cfg.TrainingBytes(dtypes.Float32, p.BatchSize, p.SeqLen)); err != nil {
		return nil, err
	}
	lock, err := OpenRunDir(o.OutDir, o.Resume)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	var tok *tokenize.Tokenizer
	tokPath := o.Tokenizer
	if tokPath == "" {
		if _, err := os.Stat(filepath.Join(o.ModelDir, "tokenizer.json")); err == nil {
			tokPath = o.ModelDir
		}
	}
	if tokPath != "" {
		if tok, err = tokenize.Load(tokPath); err != nil {
			return nil, err
		}
	}
	tokensPath, err := finetuneTokens(o, tok, log)
	if err != nil {
		return nil, err
	}
	tokens, err := data.OpenTokens(tokensPath)
	if err != nil {
		return nil, err
	}
	defer tokens.Close()
	m, err := llm.LoadModel(o.ModelDir, dtypes.Float32)
	if err != nil {
		return nil, err
	}
	rep, err := runLM(LMRun{Model: m, Tokens: tokens, Params: p, OutDir: o.OutDir, Options: o.RecipeOptions},
		ExportOptions{Tokenizer: tok, CopyFiles: []string{filepath.Join(o.ModelDir, "generation_config.json")}})
	if rep != nil {
		rep.Recipe, rep.Command = "finetune", o.Command
		rep.Data = map[string]string{"tokens": tokensPath, "source_model": o.ModelDir}
		rep.Extra["original_peak_lr"] = o.OriginalPeakLR
		rep.Extra["lr_factor"] = o.LRFactor
		rep.Extra["peak_lr"] = p.PeakLR
		rep.Extra["warmup_steps"] = p.WarmupSteps
		rep.Timings["load"] = time.Since(stage).Seconds() - rep.Timings["train"]
	}
	if err != nil {
		return rep, err
	}
	return rep, results.SaveJSON(filepath.Join(o.OutDir, ReportFile), rep)
}

// finetuneTokens returns the token file to train on: o.Data itself when it is
// one, else the corpus packed once into the data dir's cache
// (data.CorpusTokenFile; validation fraction o.ValFraction or 5%, seed 1).
func finetuneTokens(o FinetuneOptions, tok *tokenize.Tokenizer, log io.Writer) (string, error) {
	if tok == nil {
		if len(o.Data) == 1 {
			if ok, _ := data.IsTokenFile(o.Data[0]); ok {
				return o.Data[0], nil
			}
		}
		return "", fmt.Errorf("train: %s has no tokenizer.json: set FinetuneOptions.Tokenizer to pack %v", o.ModelDir, o.Data)
	}
	field := o.Field
	if field == "" {
		field = "text"
	}
	val := o.ValFraction
	if val == 0 {
		val = 0.05
	}
	var srcs []data.Source
	for _, f := range o.Data {
		srcs = append(srcs, data.Source{Path: f, Format: "auto", Field: field})
	}
	return data.CorpusTokenFile(o.Data, data.CorpusOptions{Tokenizer: tok, Sources: srcs, ValFraction: val, Seed: 1, Log: log})
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return filepath.Clean(a)
}
