package distill

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/ops/train"
	"github.com/gominitron/gominitron/results"
)

// LineageFile is the lineage record written beside the exported student.
const LineageFile = "distill.json"

// Defaults (P2's schedule shape; clipping as Megatron).
const (
	DefaultPeakLR     = 1e-4
	DefaultMinLR      = 1e-5
	DefaultWarmup     = 40
	DefaultClipNorm   = 1.0
	DefaultBatchSize  = 8
	DefaultSeqLen     = 128
	DefaultValBatches = 8
)

// Split of a text corpus passed as Options.Data: the demo teacher's recipe
// defaults, so its validation documents are ones the teacher never saw.
const (
	CorpusValFraction = 0.05
	CorpusSplitSeed   = 1
)

// Options configures Run.
type Options struct {
	Teacher string // teacher HF folder (frozen)
	Student string // student HF folder (e.g. a pruned model)
	// Data is a token file written by `gominitron data pack` (train split
	// for training, val split for validation), or a text corpus (text /
	// JSON Lines / Parquet) packed once with the teacher's tokenizer
	// (CorpusValFraction, CorpusSplitSeed) into the data dir's cache.
	Data string
	Out  string // exported student HF folder (must not exist or be empty)
	// RunDir holds metrics.jsonl and checkpoints/ (default Out + ".run").
	RunDir string

	Steps     int
	BatchSize int // sequences per micro-batch (default DefaultBatchSize)
	SeqLen    int // predicted positions per sequence; rows hold SeqLen+1 tokens (default DefaultSeqLen)
	Accum     int // micro-batches per update (default 1)
	PeakLR    float64
	MinLR     float64
	Warmup    int // -1: DefaultWarmup capped at Steps
	ClipNorm  float64
	AdamW     *train.AdamW // nil: train.DefaultAdamW()
	Seed      uint64

	Loss Loss
	// Intermediate is the layer map ("" none, "default", or "s:t,s:t" with
	// last/last-K allowed), parsed against the two depths into
	// Loss.Intermediate when that is empty.
	Intermediate string

	DType           dtypes.DType // compute dtype (default float32)
	ValBatches      int          // validation batches (default DefaultValBatches); 0 and no val split: none
	EvalEvery       int          // validate (student LM loss on the val batches) every N updates, and after the last
	CheckpointEvery int
	Resume          bool
	StopAfter       int // > 0: stop after that many updates with a checkpoint (simulated interruption)
	Progress        func(train.Progress)
	Backend         compute.Backend // nil: backend.New()
}

// Lineage is distill.json.
type Lineage struct {
	Teacher      string            `json:"teacher,omitempty"`
	Student      string            `json:"student_source"`
	Data         string            `json:"data"`
	Steps        int               `json:"steps"`
	Tokens       int64             `json:"tokens"`
	BatchSize    int               `json:"batch_size"`
	SeqLen       int               `json:"seq_len"`
	Accum        int               `json:"accum_steps"`
	Schedule     train.Schedule    `json:"schedule"`
	AdamW        train.AdamW       `json:"adamw"`
	ClipNorm     float64           `json:"clip_norm"`
	DType        string            `json:"compute_dtype"`
	Loss         *Loss             `json:"loss,omitempty"`
	Vocab        *VocabInfo        `json:"vocab,omitempty"`
	TeacherShape *results.Shape    `json:"teacher_shape,omitempty"`
	StudentShape results.Shape     `json:"student_shape"`
	Final        results.TrainStep `json:"final_step"` // last update's metrics row

	ValBatches       int             `json:"val_batches"`
	ValLMLossBefore  *float64        `json:"val_lm_loss_before,omitempty"`
	ValLMLossAfter   *float64        `json:"val_lm_loss_after,omitempty"`
	TeacherValLMLoss *float64        `json:"teacher_val_lm_loss,omitempty"`
	StepsPerSec      float64         `json:"steps_per_sec"`
	TokensPerSec     float64         `json:"tokens_per_sec"`
	ElapsedSec       float64         `json:"elapsed_s"`
	Backend          string          `json:"backend"`
	ResumedFrom      string          `json:"resumed_from,omitempty"`
	Created          string          `json:"created"`
	StudentPruning   json.RawMessage `json:"student_pruning,omitempty"` // the student's pruning.json, if any
	MetricsFile      string          `json:"metrics"`
}

// withDefaults fills zero options.
func (o Options) withDefaults() Options {
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.SeqLen == 0 {
		o.SeqLen = DefaultSeqLen
	}
	if o.Accum == 0 {
		o.Accum = 1
	}
	if o.PeakLR == 0 {
		o.PeakLR = DefaultPeakLR
	}
	if o.MinLR == 0 {
		o.MinLR = min(DefaultMinLR, o.PeakLR)
	}
	if o.Warmup < 0 {
		o.Warmup = min(DefaultWarmup, o.Steps)
	}
	if o.ClipNorm == 0 {
		o.ClipNorm = DefaultClipNorm
	}
	if o.DType == dtypes.InvalidDType {
		o.DType = dtypes.Float32
	}
	if o.RunDir == "" && o.Out != "" {
		o.RunDir = filepath.Clean(o.Out) + ".run"
	}
	if o.Loss.Logits.Kind == "" {
		o.Loss.Logits.Kind = ForwardKL
	}
	o.Loss.DType = o.DType
	return o
}

// Run distills the student from the teacher and exports it to o.Out with
// distill.json (plain LM-loss retraining, no teacher, is ops/train's
// TrainLM; `gominitron finetune` on the CLI). It is the composition of the steps a notebook can
// call one by one:
//
//	err := o.Check()                                  // fields and paths, before any work
//	lock, err := train.OpenRunDir(o.RunDir, o.Resume) // the run folder, held to the end
//	in, err := Open(o)                                // corpus, vocabulary, configs, memory, weights
//	s, err := NewSession(be, in, o)                   // store, projection, loss, trainer, batches
//	lin, err := s.Train()                             // validation before, training, validation after
//	err = s.Export(o.Out, lin)                        // the student as an HF folder + distill.json
//
// Training state (metrics.jsonl, checkpoints/) is in o.RunDir; with
// o.Resume the newest checkpoint there is restored first (weights, AdamW
// moments, step, data position), otherwise a RunDir holding checkpoints is
// an error. A run stopped early (o.StopAfter) returns its lineage unexported.
func Run(o Options) (*Lineage, error) {
	o = o.withDefaults()
	if err := o.Check(); err != nil {
		return nil, err
	}
	lock, err := train.OpenRunDir(o.RunDir, o.Resume)
	if err != nil {
		return nil, fmt.Errorf("distill: run folder: %w", err)
	}
	defer lock.Release()
	in, s, err := openSession(o)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	lin, err := s.Train()
	if err != nil || !s.Done() {
		return lin, err
	}
	return lin, s.Export(o.Out, lin)
}

// openSession is Open then NewSession (on o.Backend), the inputs closed
// again when the session cannot be built; the caller closes them.
func openSession(o Options) (*Inputs, *Session, error) {
	in, err := Open(o)
	if err != nil {
		return nil, nil, err
	}
	s, err := NewSession(o.Backend, in, o)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, s, nil
}

// Check validates o (after defaults): the fields, and the paths (Out and
// RunDir new, neither inside an input nor each other; RunDir without
// checkpoints unless o.Resume). Nothing is read but the folders' listings.
func (o Options) Check() error {
	o = o.withDefaults()
	if err := o.checkFields(); err != nil {
		return err
	}
	if err := checkPaths(o); err != nil {
		return err
	}
	if last, _ := train.LatestCheckpoint(filepath.Join(o.RunDir, train.CheckpointsDir)); last != "" && !o.Resume {
		return fmt.Errorf("distill: %s already holds checkpoints (newest %s): set Options.Resume to continue, or choose another Options.Out", o.RunDir, last)
	}
	return nil
}

// checkFields validates the numeric fields (after defaults).
func (o Options) checkFields() error {
	if o.Steps <= 0 {
		return fmt.Errorf("distill: Options.Steps must be > 0, got %d", o.Steps)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"BatchSize", o.BatchSize}, {"SeqLen", o.SeqLen}, {"Accum", o.Accum}} {
		if f.v < 1 {
			return fmt.Errorf("distill: Options.%s must be ≥ 1 (0 = default), got %d", f.name, f.v)
		}
	}
	return nil
}

// Inputs are the opened inputs of a run. A notebook may fill them directly
// from models and tokens it already holds (Vocab and StudentPruning are then
// optional); Open fills them from Options' paths.
type Inputs struct {
	Teacher *llm.Model   // frozen teacher, in the compute dtype
	Student *llm.Model   // student, float32 (the trained masters start from it)
	Tokens  *data.Tokens // train split trains, val split (if any) validates
	// Vocab is CheckVocab's outcome (nil: logits compared over
	// min(teacher, student) ids, without the tokenizer check).
	Vocab *VocabInfo
	// StudentPruning is the student's pruning.json (prune.Lineage), if any:
	// recorded in distill.json, and its kept hidden channels initialise the
	// intermediate-state projection.
	StudentPruning json.RawMessage

	closeTokens bool
}

// Close releases the token file if Open opened it.
func (in *Inputs) Close() {
	if in.closeTokens && in.Tokens != nil {
		in.Tokens.Close()
	}
}

// Open opens what o names, refusing before any weight is read what cannot
// work: the data (a token file, or a text corpus packed once with the
// teacher's tokenizer), the vocabulary agreement (CheckVocab), the sequence
// length against both configs, the memory (CheckMemory), then the teacher
// (in o.DType) and the student (float32).
func Open(o Options) (*Inputs, error) {
	o = o.withDefaults()
	if err := o.checkFields(); err != nil {
		return nil, err
	}
	scfg, err := llm.LoadConfig(o.Student)
	if err != nil {
		return nil, err
	}
	// A text corpus is packed with the teacher's tokenizer.
	tokens, err := data.OpenCorpus(o.Data, data.CorpusOptions{TokenizerPath: o.Teacher, FallbackEOS: scfg.EOSTokenIDs,
		ValFraction: CorpusValFraction, Seed: CorpusSplitSeed, Log: os.Stderr})
	if err != nil {
		return nil, fmt.Errorf("distill: Options.Data: %w", err)
	}
	in := &Inputs{Tokens: tokens, closeTokens: true}
	if err := in.open(o, scfg); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

func (in *Inputs) open(o Options, scfg *llm.Config) error {
	if pj, err := os.ReadFile(filepath.Join(o.Student, prune.LineageFile)); err == nil && json.Valid(pj) {
		in.StudentPruning = pj
	}
	tcfg, err := llm.LoadConfig(o.Teacher)
	if err != nil {
		return err
	}
	vi, err := CheckVocab(o.Teacher, o.Student, tcfg, scfg, int(in.Tokens.Header.MaxTokenID))
	if err != nil {
		return err
	}
	in.Vocab = &vi
	if err := tcfg.CheckSequenceLength("distill: teacher "+o.Teacher+": seq_len", o.SeqLen); err != nil {
		return err
	}
	if err := scfg.CheckSequenceLength("distill: student "+o.Student+": seq_len", o.SeqLen); err != nil {
		return err
	}
	if err := CheckMemory(tcfg, scfg, o); err != nil {
		return err
	}
	if in.Teacher, err = llm.LoadModel(o.Teacher, o.DType); err != nil {
		return err
	}
	in.Student, err = llm.LoadModel(o.Student, dtypes.Float32)
	return err
}

// CheckMemory refuses a run whose memory does not fit (llm.CheckFits),
// reading only the configs. It prints the distillation memory plan to
// stderr first (memoryPlan: teacher, student, gradients, Adam state,
// activations, logits, and the largest batch that fits).
func CheckMemory(tcfg, scfg *llm.Config, o Options) error {
	return memoryPlan(os.Stderr, tcfg, scfg, o.withDefaults())
}

// Session is one training run, set up and ready: the store holding the
// frozen teacher (TeacherScope), the student (StudentScope) and the
// projection (ProjectionScope, when an intermediate loss needs it); the
// trainer with its schedule; the seeded train batches and the validation
// batches ([BatchSize, SeqLen+1] int32 each).
type Session struct {
	Options Options
	Backend compute.Backend
	Store   *model.Store
	Trainer *train.Trainer
	Batches *train.TokenBatches
	Val     []*tensors.Tensor

	tcfg, scfg *llm.Config
	lineage    Lineage // filled as far as it is known before training
}

// NewSession builds the run on opened inputs: the store (NewStore), the
// projection (CreateProjection, initialised from the kept hidden channels
// of in.StudentPruning when its source is the teacher's width), the loss
// (NewLossFn), the trainer and the batches.
// be nil: backend.New(). o is checked (checkFields), not its paths. The
// models' weights move into the session's store: do not use in.Teacher or
// in.Student afterwards (Export writes the trained student).
func NewSession(be compute.Backend, in *Inputs, o Options) (*Session, error) {
	o = o.withDefaults()
	if err := o.checkFields(); err != nil {
		return nil, err
	}
	if in.Teacher == nil || in.Student == nil || in.Tokens == nil {
		return nil, fmt.Errorf("distill: NewSession needs the teacher, the student and the tokens")
	}
	if be == nil {
		var err error
		if be, err = backend.New(); err != nil {
			return nil, err
		}
	}
	s := &Session{Options: o, Backend: be, scfg: in.Student.Config}
	scfg := s.scfg
	s.lineage = Lineage{Student: abs(o.Student), Data: abs(o.Data), BatchSize: o.BatchSize, SeqLen: o.SeqLen,
		Accum: o.Accum, ClipNorm: o.ClipNorm, DType: strings.ToLower(o.DType.String()), StudentShape: prune.ShapeOf(scfg),
		StudentPruning: in.StudentPruning}
	store, err := NewStore(in.Teacher, in.Student)
	if err != nil {
		return nil, err
	}
	s.Store = store
	loss, err := s.newLoss(in)
	if err != nil {
		return nil, err
	}
	adam := train.DefaultAdamW()
	if o.AdamW != nil {
		adam = *o.AdamW
	}
	sched := train.Schedule{PeakLR: o.PeakLR, MinLR: o.MinLR, WarmupSteps: o.Warmup, TotalSteps: o.Steps}
	s.lineage.Schedule, s.lineage.AdamW = sched, adam
	if s.Trainer, err = train.New(be, store, loss, train.Config{Schedule: sched, AdamW: adam, ClipNorm: o.ClipNorm, AccumSteps: o.Accum}); err != nil {
		return nil, err
	}
	if s.Batches, err = train.NewTokenBatches(in.Tokens, data.BatchOptions{Split: data.Train, BatchSize: o.BatchSize, SeqLen: o.SeqLen,
		Seed: o.Seed, Shuffle: true}); err != nil {
		return nil, err
	}
	if s.Val, err = valBatches(in.Tokens, o); err != nil {
		return nil, err
	}
	s.lineage.ValBatches = len(s.Val)
	return s, nil
}

// newLoss: the distillation loss (with its projection); records the
// teacher side of the lineage.
func (s *Session) newLoss(in *Inputs) (train.LossFn, error) {
	o := s.Options
	tcfg, scfg := in.Teacher.Config, s.scfg
	s.tcfg = tcfg
	vi := VocabInfo{Teacher: tcfg.VocabSize, Student: scfg.VocabSize, Used: min(tcfg.VocabSize, scfg.VocabSize)}
	if in.Vocab != nil {
		vi = *in.Vocab
	}
	s.lineage.Vocab, s.lineage.Teacher = &vi, abs(o.Teacher)
	ts := prune.ShapeOf(tcfg)
	s.lineage.TeacherShape = &ts
	o.Loss.VocabUsed = vi.Used
	if len(o.Loss.Intermediate) == 0 && o.Intermediate != "" {
		var err error
		if o.Loss.Intermediate, err = ParseLayerMap(o.Intermediate, scfg.NumLayers, tcfg.NumLayers); err != nil {
			return nil, err
		}
	}
	if err := o.Loss.Validate(tcfg, scfg); err != nil {
		return nil, err
	}
	if o.Loss.hasIS() {
		var kept []int
		var pl prune.Lineage
		if len(in.StudentPruning) > 0 && json.Unmarshal(in.StudentPruning, &pl) == nil && pl.Kept != nil && pl.From.Hidden == tcfg.Hidden {
			kept = pl.Kept.Hidden
		}
		if err := CreateProjection(s.Store, tcfg.Hidden, scfg.Hidden, kept, o.Seed); err != nil {
			return nil, err
		}
	}
	l := o.Loss
	s.lineage.Loss = &l
	s.Options = o
	return NewLossFn(tcfg, scfg, o.Loss)
}

// valBatches: o.ValBatches batches of the val split (0: DefaultValBatches;
// < 0 or no val split: none).
func valBatches(tokens *data.Tokens, o Options) ([]*tensors.Tensor, error) {
	if o.ValBatches < 0 {
		return nil, nil
	}
	if _, err := tokens.SplitLen(data.Val); err != nil {
		return nil, nil
	}
	n := o.ValBatches
	if n == 0 {
		n = DefaultValBatches
	}
	return train.ValBatches(tokens, data.Val, o.BatchSize, o.SeqLen, n)
}

// Done reports whether the trainer has made all Options.Steps updates (a
// run stopped by Options.StopAfter has not).
func (s *Session) Done() bool { return s.Trainer.Step() >= s.Options.Steps }

// Train runs the session in Options.RunDir (the caller holds its lock,
// train.OpenRunDir(Options.RunDir, Options.Resume), as Run does):
// the student's validation LM loss (and the teacher's) before, the
// trainer's Run (resumed from the newest checkpoint with Options.Resume),
// the validation LM loss after. Validation reports the student's LM loss
// (not the distillation loss), so KD and CE runs are compared on the same
// number: the trainer validates with it and writes it into the metrics rows.
func (s *Session) Train() (*Lineage, error) {
	o, lin := s.Options, s.lineage
	studentEval, err := NewLMLossEvaluator(s.Backend, s.Store, s.scfg, StudentScope, o.DType)
	if err != nil {
		return nil, err
	}
	if o.Resume {
		if lin.ResumedFrom, err = s.Trainer.Resume(o.RunDir, s.Batches); err != nil {
			return nil, err
		}
	}
	if len(s.Val) > 0 {
		if err := s.validateBefore(&lin, studentEval); err != nil {
			return nil, err
		}
	}
	sum, err := s.Trainer.Run(train.RunOptions{OutDir: o.RunDir, Train: s.Batches, EvalEvery: o.EvalEvery,
		Val: s.Val, ValLoss: studentEval.Loss, SkipInitialVal: true,
		CheckpointEvery: o.CheckpointEvery, Progress: o.Progress, StopAfter: o.StopAfter})
	if err != nil {
		return nil, err
	}
	lin.Steps, lin.Tokens, lin.ElapsedSec, lin.TokensPerSec = sum.Steps, sum.Tokens, sum.ElapsedSec, sum.TokensPerSec
	lin.StepsPerSec = sum.TokensPerSec / float64(o.BatchSize*(o.SeqLen+1)*o.Accum) // training time only
	lin.MetricsFile = abs(sum.MetricsPath)
	rows, err := results.ReadTrainLog(sum.MetricsPath)
	if err != nil {
		return nil, err
	}
	if len(rows) > 0 {
		lin.Final = rows[len(rows)-1]
	}
	if !s.Done() { // stopped early (StopAfter)
		return &lin, nil
	}
	if last := lin.Final; last.Step == o.Steps && last.ValLoss != nil {
		lin.ValLMLossAfter = results.F(*last.ValLoss)
	}
	lin.Backend = s.Backend.Name()
	lin.Created = time.Now().UTC().Format(time.RFC3339)
	return &lin, nil
}

// validateBefore fills lin's validation losses before training: measured
// on a fresh run (and kept in RunDir/before.json), read back on a resumed one.
func (s *Session) validateBefore(lin *Lineage, studentEval *LMLossEvaluator) error {
	o := s.Options
	if lin.ResumedFrom == "" {
		v, err := studentEval.Loss(s.Val)
		if err != nil {
			return err
		}
		lin.ValLMLossBefore = results.F(v)
	} else if prev := new(Lineage); results.LoadJSON(filepath.Join(o.RunDir, "before.json"), prev) == nil {
		lin.ValLMLossBefore, lin.TeacherValLMLoss = prev.ValLMLossBefore, prev.TeacherValLMLoss
	}
	if lin.TeacherValLMLoss == nil {
		te, err := NewLMLossEvaluator(s.Backend, s.Store, s.tcfg, TeacherScope, o.DType)
		if err != nil {
			return err
		}
		v, err := te.Loss(s.Val)
		if err != nil {
			return err
		}
		lin.TeacherValLMLoss = results.F(v)
	}
	if lin.ResumedFrom != "" {
		return nil
	}
	if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
		return fmt.Errorf("distill: %w", err)
	}
	return fileio.WriteJSON(filepath.Join(o.RunDir, "before.json"), lin)
}

// Export writes the trained student (float32 masters saved in the
// student's own dtype) as an HF folder out with distill.json (lin) and the
// student's pruning.json, built beside out and renamed into place; the
// tokenizer and generation files are copied from Options.Student.
func (s *Session) Export(out string, lin *Lineage) error {
	m, err := llm.ModelFromStore(s.scfg, s.Store, StudentScope)
	if err != nil {
		return err
	}
	m.Source = s.Options.Student // tokenizer/generation files are copied from there
	// Staged beside out (not in RunDir, which may be on another
	// filesystem), with out's missing parents created.
	stage, commit, cleanup, err := fileio.StageDir(out)
	if err != nil {
		return fmt.Errorf("distill: %w", err)
	}
	defer cleanup()
	if err := llm.SaveModel(stage, m, llm.SaveOptions{}); err != nil {
		return err
	}
	if err := fileio.WriteJSON(filepath.Join(stage, LineageFile), lin); err != nil {
		return err
	}
	if len(lin.StudentPruning) > 0 {
		if err := fileio.WriteFile(filepath.Join(stage, prune.LineageFile), lin.StudentPruning); err != nil {
			return fmt.Errorf("distill: %w", err)
		}
	}
	if err := commit(); err != nil {
		return fmt.Errorf("distill: exporting the student: %w (is the output folder still empty?)", err)
	}
	return nil
}

// checkPaths rejects an output that is missing, non-empty, or a source.
func checkPaths(o Options) error {
	if o.Student == "" || o.Data == "" || o.Out == "" {
		return fmt.Errorf("distill: Options.Student, Options.Data and Options.Out are required")
	}
	if o.Teacher == "" {
		return fmt.Errorf("distill: Options.Teacher is required")
	}
	for _, dir := range []string{o.Out, o.RunDir} {
		if err := fileio.CheckOutput(dir, o.Teacher, o.Student, o.Data); err != nil {
			return fmt.Errorf("distill: %w", err)
		}
	}
	if ro, rr := resolved(o.Out), resolved(o.RunDir); ro == rr {
		return fmt.Errorf("distill: the run folder %s is the output folder: give them different paths", o.RunDir)
	}
	if err := fileio.CheckOutput(o.Out, o.RunDir); err != nil { // the run folder must not be (inside) the export
		return fmt.Errorf("distill: %w", err)
	}
	if entries, err := os.ReadDir(o.Out); err == nil && len(entries) > 0 {
		return fmt.Errorf("distill: Options.Out %s exists and is not empty", o.Out)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("distill: Options.Out: %w", err)
	}
	return nil
}

// resolved is fileio.Resolve(p), or p when it cannot be resolved.
func resolved(p string) string {
	if r, err := fileio.Resolve(p); err == nil {
		return r
	}
	return p
}

// abs is p made absolute ("" stays "": a notebook's opened inputs have no path).
func abs(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
