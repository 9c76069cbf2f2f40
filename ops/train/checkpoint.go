package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/safetensors"
)

// Checkpoint layout: DIR/step-00000100/{variables.safetensors, state.json}.
// A checkpoint directory appears only complete: it is written as
// DIR/.step-00000100.tmp-*/ and renamed (see fileio.IsTemp).
const (
	checkpointPrefix    = "step-"
	checkpointTensors   = "variables.safetensors"
	checkpointStateFile = "state.json"
	oldSuffix           = ".old" // a checkpoint moved aside while the same step is saved again
)

// CheckpointState is the non-tensor part of a checkpoint.
type CheckpointState struct {
	Step       int             `json:"step"`   // optimizer updates done
	Tokens     int64           `json:"tokens"` // token ids consumed
	Data       json.RawMessage `json:"data"`   // position of the training data after Step updates (Batches.State)
	ElapsedSec float64         `json:"elapsed_s"`
	// Variables lists the saved variable paths (parameters, then AdamW moments).
	Variables []string `json:"variables"`
}

// Checkpointer writes checkpoints of a Trainer into Dir, keeping the last
// Keep (≤ 0: keep all).
type Checkpointer struct {
	Dir  string
	Keep int

	// failBeforeRename, when set (tests), is called after the files are
	// written and before the rename; an error aborts the save.
	failBeforeRename func() error
}

// checkpointVariables are the variables a checkpoint holds: parameters,
// AdamW moments (accumulators are zero between updates) and the store's
// random-number-generator state when the loss draws random numbers
// (store.RandomNormal / RandomUniform, e.g. dropout).
func (t *Trainer) checkpointVariables() []*model.Variable {
	vars := append(append(t.Params(), t.m...), t.v...)
	if rng := t.store.GetVariable(model.JoinPath("/", model.RNGStateVariableName)); rng != nil {
		vars = append(vars, rng)
	}
	return vars
}

// Save writes a checkpoint of t at its current step with the data position
// data, atomically, then deletes the oldest beyond Keep. It returns the
// checkpoint's path.
func (c *Checkpointer) Save(t *Trainer, data json.RawMessage, elapsedSec float64) (path string, err error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", fmt.Errorf("train: checkpoint directory: %w", err)
	}
	name := fmt.Sprintf("%s%08d", checkpointPrefix, t.step)
	tmp, err := os.MkdirTemp(c.Dir, "."+name+fileio.TempInfix)
	if err != nil {
		return "", fmt.Errorf("train: checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	st := CheckpointState{Step: t.step, Tokens: t.tokens, Data: data, ElapsedSec: elapsedSec}
	var named []safetensors.NamedTensor
	for _, v := range t.checkpointVariables() {
		val, err := v.Value()
		if err != nil {
			return "", fmt.Errorf("train: checkpoint: reading %s: %w", v.Path(), err)
		}
		named = append(named, safetensors.NamedTensor{Name: v.Path(), T: val})
		st.Variables = append(st.Variables, v.Path())
	}
	if err := safetensors.Write(filepath.Join(tmp, checkpointTensors), named, map[string]string{"format": "gominitron-train-checkpoint"}); err != nil {
		return "", fmt.Errorf("train: checkpoint: %w", err)
	}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", err
	}
	if err := writeFileSync(filepath.Join(tmp, checkpointStateFile), append(js, '\n')); err != nil {
		return "", fmt.Errorf("train: checkpoint: %w", err)
	}
	if c.failBeforeRename != nil {
		if err := c.failBeforeRename(); err != nil {
			return "", err
		}
	}
	final := filepath.Join(c.Dir, name)
	if _, statErr := os.Stat(final); statErr == nil {
		// Same step saved before (a resumed run): move the old one away first.
		old := final + oldSuffix
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return "", fmt.Errorf("train: checkpoint: %w", err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("train: checkpoint: %w", err)
	}
	syncDir(c.Dir)
	if c.Keep > 0 {
		all, _ := ListCheckpoints(c.Dir)
		for len(all) > c.Keep {
			removeCheckpoint(all[0])
			all = all[1:]
		}
	}
	return final, nil
}

// removeCheckpoint deletes a checkpoint folder without ever leaving a
// half-deleted one under a checkpoint name: it is first renamed to a
// staging name (fileio.IsTemp, ignored by ListCheckpoints and removed by the
// next OpenRunDir if the deletion is interrupted).
func removeCheckpoint(path string) {
	dead := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+fileio.TempInfix+"deleted")
	if err := os.Rename(path, dead); err != nil {
		return // left in place: still complete
	}
	os.RemoveAll(dead)
}

// ListCheckpoints returns the complete checkpoints in dir, oldest first.
// Temporary directories of interrupted saves are ignored.
func ListCheckpoints(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("train: %w", err)
	}
	type ck struct {
		step int
		path string
	}
	var cks []ck
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, checkpointPrefix) {
			continue
		}
		step, err := strconv.Atoi(strings.TrimPrefix(name, checkpointPrefix))
		if err != nil {
			continue
		}
		p := filepath.Join(dir, name)
		if !complete(p) {
			continue
		}
		cks = append(cks, ck{step, p})
	}
	sort.Slice(cks, func(i, j int) bool { return cks[i].step < cks[j].step })
	out := make([]string, len(cks))
	for i, c := range cks {
		out[i] = c.path
	}
	return out, nil
}

// complete reports whether the checkpoint folder p holds both of its files
// as regular files (a folder cut short by a crash or a partial deletion is
// never taken for a checkpoint).
func complete(p string) bool {
	for _, f := range []string{checkpointStateFile, checkpointTensors} {
		if _, err := fileio.CheckRegular(filepath.Join(p, f)); err != nil {
			return false
		}
	}
	return true
}

// LatestCheckpoint returns the newest complete checkpoint in dir, or "" if none.
func LatestCheckpoint(dir string) (string, error) {
	all, err := ListCheckpoints(dir)
	if err != nil || len(all) == 0 {
		return "", err
	}
	return all[len(all)-1], nil
}

// ReadCheckpointState reads the state.json of a checkpoint.
func ReadCheckpointState(path string) (CheckpointState, error) {
	var st CheckpointState
	data, err := os.ReadFile(filepath.Join(path, checkpointStateFile))
	if err != nil {
		return st, fmt.Errorf("train: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("train: %s: %w", filepath.Join(path, checkpointStateFile), err)
	}
	return st, nil
}

// Restore loads a checkpoint into t (parameters, AdamW moments, step and
// token count) and returns its state; the caller restores the data position
// (Run does this through Resume).
func (t *Trainer) Restore(path string) (CheckpointState, error) {
	st, err := ReadCheckpointState(path)
	if err != nil {
		return st, err
	}
	file := filepath.Join(path, checkpointTensors)
	f, err := safetensors.Open(file)
	if err != nil {
		return st, fmt.Errorf("train: %w", err)
	}
	defer f.Close()
	for _, v := range t.checkpointVariables() {
		if _, ok := f.Info(v.Path()); !ok {
			return st, fmt.Errorf("train: checkpoint %s has no tensor %q", file, v.Path())
		}
		val, err := f.Tensor(v.Path(), v.DType())
		if err != nil {
			return st, fmt.Errorf("train: checkpoint %s: %w", file, err)
		}
		if !val.Shape().Equal(v.Shape()) {
			return st, fmt.Errorf("train: checkpoint %s: tensor %q has shape %s, the model has %s", file, v.Path(), val.Shape(), v.Shape())
		}
		if err := v.SetValue(val); err != nil {
			return st, fmt.Errorf("train: restoring %s: %w", v.Path(), err)
		}
	}
	for _, a := range t.acc {
		if err := a.SetValue(tensors.FromShape(a.Shape())); err != nil {
			return st, err
		}
	}
	t.step, t.tokens = st.Step, st.Tokens
	return st, nil
}

// writeFileSync writes data to a new file and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory so a rename in it is durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
