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

// Mode is what Run trains the student with.
type Mode string

const (
	ModeDistill Mode = "distill" // teacher → student distillation (Options.Loss)
	ModeCE      Mode = "ce"      // plain next-token LM loss, no teacher: the retraining baseline
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
	Teacher string // teacher HF folder (unused in ModeCE, except for lineage)
	Student string // student HF folder (e.g. a pruned model)
	// Data is a token file written by `gominitron data pack` (train split
	// for training, val split for validation), or a text corpus (text /
	// JSON Lines / Parquet) packed once with the teacher's tokenizer
	// (CorpusValFraction, CorpusSplitSeed) into the data dir's cache.
	Data string
	Out  string // exported student HF folder (must not exist or be empty)
	// RunDir holds metrics.jsonl and checkpoints/ (default Out + ".run").
	RunDir string

	Mode      Mode
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
	Mode         Mode              `json:"mode"`
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
	if o.Mode == "" {
		o.Mode = ModeDistill
	}
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

// Result is what Run returns (and writes as distill.json into Out).
type Result = Lineage

// Run distills (or, in ModeCE, retrains) the student and exports it to
// o.Out with distill.json. Training state (metrics.jsonl, checkpoints/) is in
// o.RunDir; with o.Resume the newest checkpoint there is restored first
// (weights, AdamW moments, step, data position), otherwise a RunDir holding
// checkpoints is an error.
func Run(o Options) (*Lineage, error) {
	o = o.withDefaults()
	if err := checkPaths(o); err != nil {
		return nil, err
	}
	lock, err := train.OpenRunDir(o.RunDir, o.Resume)
	if err != nil {
		return nil, fmt.Errorf("distill: run folder: %w", err)
	}
	defer lock.Release()
	if o.Steps <= 0 {
		return nil, fmt.Errorf("distill: --steps must be > 0, got %d", o.Steps)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"BatchSize", o.BatchSize}, {"SeqLen", o.SeqLen}, {"Accum", o.Accum}} {
		if f.v < 1 {
			return nil, fmt.Errorf("distill: %s must be ≥ 1 (0 = default), got %d", f.name, f.v)
		}
	}
	if o.Mode != ModeDistill && o.Mode != ModeCE {
		return nil, fmt.Errorf("distill: unknown mode %q (want distill or ce)", o.Mode)
	}
	be := o.Backend
	if be == nil {
		var err error
		if be, err = backend.New(); err != nil {
			return nil, err
		}
	}
	scfg, err := llm.LoadConfig(o.Student)
	if err != nil {
		return nil, err
	}
	tokPath := o.Teacher // a text corpus is packed with the teacher's tokenizer
	if tokPath == "" {
		tokPath = o.Student
	}
	tokens, err := data.OpenCorpus(o.Data, data.CorpusOptions{TokenizerPath: tokPath, FallbackEOS: scfg.EOSTokenIDs,
		ValFraction: CorpusValFraction, Seed: CorpusSplitSeed, Log: os.Stderr})
	if err != nil {
		return nil, fmt.Errorf("distill: --data: %w", err)
	}
	defer tokens.Close()

	lin := &Lineage{Mode: o.Mode, Student: abs(o.Student), Data: abs(o.Data), BatchSize: o.BatchSize, SeqLen: o.SeqLen,
		Accum: o.Accum, ClipNorm: o.ClipNorm, DType: strings.ToLower(o.DType.String()), StudentShape: prune.ShapeOf(scfg)}
	if pj, err := os.ReadFile(filepath.Join(o.Student, prune.LineageFile)); err == nil && json.Valid(pj) {
		lin.StudentPruning = pj
	}

	var tcfg *llm.Config
	var teacher *llm.Model
	if o.Mode == ModeDistill {
		if tcfg, err = llm.LoadConfig(o.Teacher); err != nil {
			return nil, err
		}
		vi, err := CheckVocab(o.Teacher, o.Student, tcfg, scfg, int(tokens.Header.MaxTokenID))
		if err != nil {
			return nil, err
		}
		if err := tcfg.CheckSequenceLength("distill: teacher "+o.Teacher+": seq_len", o.SeqLen); err != nil {
			return nil, err
		}
		if err := scfg.CheckSequenceLength("distill: student "+o.Student+": seq_len", o.SeqLen); err != nil {
			return nil, err
		}
		if err := memoryPlan(os.Stderr, tcfg, scfg, o); err != nil {
			return nil, err
		}
		lin.Vocab, lin.Teacher = &vi, abs(o.Teacher)
		ts := prune.ShapeOf(tcfg)
		lin.TeacherShape = &ts
		o.Loss.VocabUsed = vi.Used
		if len(o.Loss.Intermediate) == 0 && o.Intermediate != "" {
			if o.Loss.Intermediate, err = ParseLayerMap(o.Intermediate, scfg.NumLayers, tcfg.NumLayers); err != nil {
				return nil, err
			}
		}
		if err := o.Loss.Validate(tcfg, scfg); err != nil {
			return nil, err
		}
		if teacher, err = llm.LoadModel(o.Teacher, o.DType); err != nil {
			return nil, err
		}
		l := o.Loss
		lin.Loss = &l
	} else if err := tokens.CheckModel(scfg.VocabSize, scfg.MaxPositions, o.SeqLen); err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	} else if err := llm.CheckFits(fmt.Sprintf("distill: student training on batches of %d × %d tokens", o.BatchSize, o.SeqLen),
		scfg.TrainingBytes(o.DType, o.BatchSize, o.SeqLen)); err != nil {
		return nil, err
	}
	student, err := llm.LoadModel(o.Student, dtypes.Float32)
	if err != nil {
		return nil, err
	}
	store, err := NewStore(teacher, student)
	if err != nil {
		return nil, err
	}
	var loss train.LossFn
	if o.Mode == ModeDistill {
		if o.Loss.hasIS() {
			var kept []int
			if len(lin.StudentPruning) > 0 {
				var pl prune.Lineage
				if json.Unmarshal(lin.StudentPruning, &pl) == nil && pl.Kept != nil && pl.From.Hidden == tcfg.Hidden {
					kept = pl.Kept.Hidden
				}
			}
			if err := CreateProjection(store, tcfg.Hidden, scfg.Hidden, kept, o.Seed); err != nil {
				return nil, err
			}
		}
		if loss, err = NewLossFn(tcfg, scfg, o.Loss); err != nil {
			return nil, err
		}
	} else {
		loss = train.LMLoss(scfg, StudentScope, o.DType)
	}

	adam := train.DefaultAdamW()
	if o.AdamW != nil {
		adam = *o.AdamW
	}
	sched := train.Schedule{PeakLR: o.PeakLR, MinLR: o.MinLR, WarmupSteps: o.Warmup, TotalSteps: o.Steps}
	lin.Schedule, lin.AdamW = sched, adam
	tr, err := train.New(be, store, loss, train.Config{Schedule: sched, AdamW: adam, ClipNorm: o.ClipNorm, AccumSteps: o.Accum})
	if err != nil {
		return nil, err
	}
	batches, err := train.NewTokenBatches(tokens, data.BatchOptions{Split: data.Train, BatchSize: o.BatchSize, SeqLen: o.SeqLen,
		Seed: o.Seed, Shuffle: true})
	if err != nil {
		return nil, err
	}
	return runTraining(o, lin, be, store, tr, batches, tokens, tcfg, scfg)
}

// runTraining: validation before, the trainer's Run (resumed if asked),
// validation after, export.
func runTraining(o Options, lin *Lineage, be compute.Backend, store *model.Store, tr *train.Trainer, batches *train.TokenBatches,
	tokens *data.Tokens, tcfg, scfg *llm.Config) (*Lineage, error) {
	var val []*tensors.Tensor
	if o.ValBatches >= 0 {
		n := o.ValBatches
		if n == 0 {
			n = DefaultValBatches
		}
		if _, err := tokens.SplitLen(data.Val); err == nil {
			var err error
			if val, err = train.ValBatches(tokens, data.Val, o.BatchSize, o.SeqLen, n); err != nil {
				return nil, err
			}
		}
	}
	lin.ValBatches = len(val)
	studentEval, err := NewLMLossEvaluator(be, store, scfg, StudentScope, o.DType)
	if err != nil {
		return nil, err
	}
	ckDir := filepath.Join(o.RunDir, train.CheckpointsDir)
	if o.Resume {
		if lin.ResumedFrom, err = tr.Resume(o.RunDir, batches); err != nil {
			return nil, err
		}
	} else if last, _ := train.LatestCheckpoint(ckDir); last != "" {
		return nil, fmt.Errorf("distill: %s already holds checkpoints (newest %s): pass --resume to continue, or choose another --out", o.RunDir, last)
	}
	if len(val) > 0 {
		if lin.ResumedFrom == "" {
			v, err := studentEval.Loss(val)
			if err != nil {
				return nil, err
			}
			lin.ValLMLossBefore = results.F(v)
		} else if prev, err := readLineage(filepath.Join(o.RunDir, "before.json")); err == nil {
			lin.ValLMLossBefore, lin.TeacherValLMLoss = prev.ValLMLossBefore, prev.TeacherValLMLoss
		}
		if tcfg != nil && lin.TeacherValLMLoss == nil {
			te, err := NewLMLossEvaluator(be, store, tcfg, TeacherScope, o.DType)
			if err != nil {
				return nil, err
			}
			v, err := te.Loss(val)
			if err != nil {
				return nil, err
			}
			lin.TeacherValLMLoss = results.F(v)
		}
		if lin.ResumedFrom == "" {
			if err := os.MkdirAll(o.RunDir, 0o755); err != nil {
				return nil, fmt.Errorf("distill: %w", err)
			}
			if err := fileio.WriteJSON(filepath.Join(o.RunDir, "before.json"), lin); err != nil {
				return nil, err
			}
		}
	}
	// Validation reports the student's LM loss (not the distillation loss),
	// so KD and CE runs are compared on the same number: the trainer
	// validates with studentEval and writes it into the metrics rows.
	sum, err := tr.Run(train.RunOptions{OutDir: o.RunDir, Train: batches, EvalEvery: o.EvalEvery,
		Val: val, ValLoss: studentEval.Loss, SkipInitialVal: true,
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
	if tr.Step() < o.Steps { // stopped early (StopAfter): no export
		return lin, nil
	}
	if last := lin.Final; last.Step == o.Steps && last.ValLoss != nil {
		lin.ValLMLossAfter = results.F(*last.ValLoss)
	}
	lin.Backend = be.Name()
	lin.Created = time.Now().UTC().Format(time.RFC3339)
	return lin, export(o, lin, store, scfg)
}

// export writes the student (float32 masters saved in the student's own
// dtype) as an HF folder with distill.json, built beside o.Out and renamed.
func export(o Options, lin *Lineage, store *model.Store, scfg *llm.Config) error {
	m, err := llm.ModelFromStore(scfg, store, StudentScope)
	if err != nil {
		return err
	}
	m.Source = o.Student // tokenizer/generation files are copied from there
	// Staged beside o.Out (not in o.RunDir, which may be on another
	// filesystem), with o.Out's missing parents created.
	stage, commit, cleanup, err := fileio.StageDir(o.Out)
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
		return fmt.Errorf("distill: --student, --data and --out are required")
	}
	if o.Mode != ModeCE && o.Teacher == "" {
		return fmt.Errorf("distill: --teacher is required")
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
		return fmt.Errorf("distill: --out %s exists and is not empty", o.Out)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("distill: --out: %w", err)
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

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func isWithin(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != "../")
}

// ReadLineage reads a distill.json.
func readLineage(path string) (*Lineage, error) {
	js, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var l Lineage
	if err := json.Unmarshal(js, &l); err != nil {
		return nil, fmt.Errorf("distill: %s: %w", path, err)
	}
	return &l, nil
}
