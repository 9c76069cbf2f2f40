package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/results"
)

// Files written by Run under RunOptions.OutDir.
const (
	MetricsFile    = "metrics.jsonl" // one results.TrainStep per update
	CheckpointsDir = "checkpoints"
)

// RunOptions configures Run.
type RunOptions struct {
	OutDir string            // metrics.jsonl and checkpoints/ go here
	Train  Batches           // training micro-batches
	Val    []*tensors.Tensor // validation batches (optional), evaluated whole each time
	// ValLoss, when set, is the validation loss of Val instead of the
	// training loss (Trainer.EvalLoss): e.g. a distilled student's own LM
	// loss, so that runs with different training losses compare on one
	// number. It must not change the trainer's state.
	ValLoss ValLossFn
	// SkipInitialVal skips the validation before the first update (the
	// caller has that number already).
	SkipInitialVal  bool
	EvalEvery       int            // validate every N updates (and after the last); 0: only after the last
	CheckpointEvery int            // checkpoint every N updates (and after the last); 0: only after the last
	KeepCheckpoints int            // keep the last N checkpoints (default 3)
	Progress        func(Progress) // optional, called after every update
	// StopAfter, when > 0, stops after that many updates (counted from 0,
	// not from the resume point), with a checkpoint, as if interrupted.
	StopAfter int
}

// ValLossFn is a validation loss over whole batches (see RunOptions.ValLoss).
type ValLossFn func(batches []*tensors.Tensor) (float64, error)

// Summary is what Run returns.
type Summary struct {
	Steps          int     `json:"steps"`
	Tokens         int64   `json:"tokens"`
	TrainLoss      float64 `json:"train_loss"`                 // last update's loss
	InitialValLoss float64 `json:"initial_val_loss,omitempty"` // validation loss before the first update (runs starting at step 0)
	ValLoss        float64 `json:"val_loss,omitempty"`         // last validation loss (0 if no validation set)
	TokensPerSec   float64 `json:"tokens_per_sec"`             // training throughput of this run
	ElapsedSec     float64 `json:"elapsed_s"`                  // total, all runs of this training
	LastCheckpoint string  `json:"last_checkpoint"`            // newest checkpoint written
	MetricsPath    string  `json:"metrics"`                    // metrics JSONL
}

// NonFiniteError is returned by Run when an update produced a NaN/Inf loss
// or gradient norm. Training stops before that update is applied.
type NonFiniteError struct {
	Step           int    // 0-based index of the failed update (= updates successfully done)
	LastCheckpoint string // newest good checkpoint ("" if none was written)
	Err            error
}

func (e *NonFiniteError) Error() string {
	ck := e.LastCheckpoint
	if ck == "" {
		ck = "none written yet"
	}
	return fmt.Sprintf("training stopped at step %d: %v; last good checkpoint: %s", e.Step, e.Err, ck)
}

func (e *NonFiniteError) Unwrap() error { return e.Err }

// Resume restores the newest checkpoint under outDir/checkpoints into t and
// moves train to the saved data position. It returns the checkpoint path
// ("" and no error when there is none: training starts from scratch).
func (t *Trainer) Resume(outDir string, train Batches) (string, error) {
	path, err := LatestCheckpoint(filepath.Join(outDir, CheckpointsDir))
	if err != nil || path == "" {
		return "", err
	}
	st, err := t.Restore(path)
	if err != nil {
		return "", err
	}
	if err := train.Restore(st.Data); err != nil {
		return "", fmt.Errorf("train: restoring data position from %s: %w", path, err)
	}
	t.elapsedBefore = st.ElapsedSec
	return path, nil
}

// Run trains until Schedule.TotalSteps updates are done (or StopAfter),
// validating, logging metrics, checkpointing and reporting progress. On a
// resumed trainer (see Resume) the metrics log is cut back to the resumed
// step, so the log of an interrupted run matches an uninterrupted one.
func (t *Trainer) Run(opts RunOptions) (Summary, error) {
	total := t.cfg.Schedule.TotalSteps
	stop := total
	if opts.StopAfter > 0 && opts.StopAfter < total {
		stop = opts.StopAfter
	}
	if opts.KeepCheckpoints == 0 {
		opts.KeepCheckpoints = 3
	}
	lock, err := fileio.LockDir(opts.OutDir) // re-entrant: callers (OpenRunDir) may hold it already
	if err != nil {
		return Summary{}, fmt.Errorf("train: %w", err)
	}
	defer lock.Release()
	metricsPath := filepath.Join(opts.OutDir, MetricsFile)
	if err := truncateLog(metricsPath, t.step); err != nil {
		return Summary{}, err
	}
	logw, err := results.NewTrainLogWriter(metricsPath)
	if err != nil {
		return Summary{}, err
	}
	defer logw.Close()
	ckpt := &Checkpointer{Dir: filepath.Join(opts.OutDir, CheckpointsDir), Keep: opts.KeepCheckpoints, failBeforeRename: t.failCheckpoint}
	sum := Summary{MetricsPath: metricsPath}
	sum.LastCheckpoint, _ = LatestCheckpoint(ckpt.Dir)

	valLoss := opts.ValLoss
	if valLoss == nil {
		valLoss = func(b []*tensors.Tensor) (float64, error) { l, _, err := t.EvalLoss(b); return l, err }
	}
	if t.step == 0 && len(opts.Val) > 0 && t.step < stop && !opts.SkipInitialVal {
		if sum.InitialValLoss, err = valLoss(opts.Val); err != nil {
			return sum, err
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Step: 0, TotalSteps: total, ValLoss: &sum.InitialValLoss, Loss: math.NaN()})
		}
	}
	start, runStart := time.Now(), t.step
	var trainTime time.Duration
	var runTokens int64
	for t.step < stop {
		stepStart := time.Now()
		micro := make([]*tensors.Tensor, t.cfg.AccumSteps)
		for i := range micro {
			if micro[i], err = opts.Train.Next(); err != nil {
				return sum, fmt.Errorf("train: step %d: reading data: %w", t.step, err)
			}
		}
		res, err := t.TrainStep(micro)
		if err != nil {
			if errors.Is(err, ErrNonFinite) {
				return sum, &NonFiniteError{Step: t.step, LastCheckpoint: sum.LastCheckpoint, Err: err}
			}
			return sum, err
		}
		trainTime += time.Since(stepStart)
		runTokens += res.Tokens
		tps := float64(runTokens) / trainTime.Seconds()
		row := results.TrainStep{Step: t.step, Tokens: t.tokens, LR: res.LR, TrainLoss: res.Loss,
			GradNorm: res.GradNorm, TokensPerSec: tps}
		setExtras(&row, res.Metrics)
		last := t.step == stop
		if len(opts.Val) > 0 && (last || (opts.EvalEvery > 0 && t.step%opts.EvalEvery == 0)) {
			vl, err := valLoss(opts.Val)
			if err != nil {
				return sum, err
			}
			row.ValLoss = results.F(vl)
			sum.ValLoss = vl
		}
		elapsed := t.elapsedBefore + time.Since(start).Seconds()
		row.ElapsedSec = elapsed
		// The row goes first: a crash right after a checkpoint must not leave
		// that checkpoint's step missing from the log.
		if err := logw.Write(row); err != nil {
			return sum, err
		}
		var ckPath string
		if last || (opts.CheckpointEvery > 0 && t.step%opts.CheckpointEvery == 0) {
			state, err := opts.Train.State()
			if err != nil {
				return sum, fmt.Errorf("train: data position: %w", err)
			}
			if ckPath, err = ckpt.Save(t, state, elapsed); err != nil {
				return sum, err
			}
			sum.LastCheckpoint = ckPath
		}
		sum.Steps, sum.Tokens, sum.TrainLoss, sum.TokensPerSec, sum.ElapsedSec = t.step, t.tokens, res.Loss, tps, elapsed
		if opts.Progress != nil {
			eta := time.Duration(0)
			if done := t.step - runStart; done > 0 {
				eta = time.Duration(float64(time.Since(start)) / float64(done) * float64(total-t.step))
			}
			opts.Progress(Progress{Step: t.step, TotalSteps: total, Loss: res.Loss, ValLoss: row.ValLoss, LR: res.LR,
				GradNorm: res.GradNorm, Tokens: t.tokens, TokensPerSec: tps,
				Elapsed: time.Duration(elapsed * float64(time.Second)), ETA: eta, Metrics: res.Metrics, Checkpoint: ckPath})
		}
	}
	return sum, nil
}

// setExtras copies the LossFn metrics into results.TrainStep: the ones it has
// fields for there, any other into Extra.
func setExtras(row *results.TrainStep, m map[string]float64) {
	for name, v := range m {
		switch name {
		case "loss_logits":
			row.LossLogits = results.F(v)
		case "loss_is":
			row.LossIS = results.F(v)
		case "alpha":
			row.Alpha = results.F(v)
		case "loss_ce":
			row.LossCE = results.F(v)
		default:
			if row.Extra == nil {
				row.Extra = map[string]float64{}
			}
			row.Extra[name] = v
		}
	}
}

// truncateLog drops the rows after step from an existing metrics log (a
// resumed run rewrites them).
func truncateLog(path string, step int) error {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	rows, err := results.ReadTrainLog(path)
	if err != nil {
		return err
	}
	keep := rows[:0]
	for _, r := range rows {
		if r.Step <= step {
			keep = append(keep, r)
		}
	}
	if len(keep) == len(rows) {
		return nil
	}
	return results.WriteTrainLog(path, keep)
}
