package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gominitron/gominitron/internal/fileio"
)

// TrainStep is one row of a training or distillation metrics log (JSON Lines,
// one object per line). Optional fields are pointers: nil means "not measured
// at this step" (validation runs only every few steps; the distillation terms
// exist only when distilling).
type TrainStep struct {
	Step         int      `json:"step"`
	Tokens       int64    `json:"tokens"` // tokens seen so far (all ranks, all accumulation micro-batches)
	LR           float64  `json:"lr"`
	TrainLoss    float64  `json:"train_loss"`
	ValLoss      *float64 `json:"val_loss,omitempty"`
	GradNorm     float64  `json:"grad_norm"`
	TokensPerSec float64  `json:"tokens_per_sec"`
	ElapsedSec   float64  `json:"elapsed_s,omitempty"`

	// Distillation terms (optional).
	LossLogits *float64 `json:"loss_logits,omitempty"` // KD loss on the logits (e.g. forward KL)
	LossIS     *float64 `json:"loss_is,omitempty"`     // intermediate-state loss
	Alpha      *float64 `json:"alpha,omitempty"`       // weight of the intermediate-state loss
	LossCE     *float64 `json:"loss_ce,omitempty"`     // cross-entropy with the ground-truth tokens

	// Extra holds any other training metric by name (a loss function's
	// metrics without a field above).
	Extra map[string]float64 `json:"extra,omitempty"`
}

// F returns a pointer to x, for filling the optional fields of TrainStep.
func F(x float64) *float64 { return &x }

// Run is a named training curve, as overlaid on one plot (e.g. "KD" vs "CE").
type Run struct {
	Name  string      `json:"name"`
	Steps []TrainStep `json:"steps"`
}

// LoadRun reads a metrics log and names it.
func LoadRun(name, path string) (Run, error) {
	steps, err := ReadTrainLog(path)
	if err != nil {
		return Run{}, err
	}
	return Run{Name: name, Steps: steps}, nil
}

// ReadTrainLog reads a JSON Lines metrics file. A last line without a final
// newline that does not parse (a write cut short by a crash) is ignored; any
// other malformed line is an error naming the file and line.
func ReadTrainLog(path string) ([]TrainStep, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	steps, err := DecodeTrainLog(f)
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return steps, nil
}

// DecodeTrainLog reads JSON Lines TrainSteps from r (see ReadTrainLog).
func DecodeTrainLog(r io.Reader) ([]TrainStep, error) {
	br := bufio.NewReader(r)
	var steps []TrainStep
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, err
		}
		complete := bytes.HasSuffix(line, []byte("\n"))
		text := strings.TrimSpace(string(line))
		if text != "" {
			var s TrainStep
			dec := json.NewDecoder(strings.NewReader(text))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&s); derr != nil {
				if !complete { // truncated last line
					return steps, nil
				}
				return nil, fmt.Errorf("line %d: %w", lineNo, derr)
			}
			steps = append(steps, s)
		}
		if err == io.EOF {
			return steps, nil
		}
	}
}

// TrainLogWriter appends TrainSteps to a JSON Lines file, one line per Write,
// flushed to the OS on every write (a crash loses at most the line being
// written).
type TrainLogWriter struct {
	f    *os.File
	path string
}

// NewTrainLogWriter opens path for appending (creating it and its directory
// if missing).
func NewTrainLogWriter(path string) (*TrainLogWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	return &TrainLogWriter{f: f, path: path}, nil
}

// Write appends one step as a JSON line.
func (w *TrainLogWriter) Write(s TrainStep) error {
	data, err := EncodeTrainStep(s)
	if err != nil {
		return fmt.Errorf("results: %s step %d: %w", w.path, s.Step, err)
	}
	if _, err := w.f.Write(data); err != nil {
		return fmt.Errorf("results: %s: %w", w.path, err)
	}
	return nil
}

// Close closes the file.
func (w *TrainLogWriter) Close() error { return w.f.Close() }

// EncodeTrainStep returns s as one JSON line (with the trailing newline).
func EncodeTrainStep(s TrainStep) ([]byte, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// WriteTrainLog writes steps to path atomically (replacing it), e.g. to
// truncate a log to the steps of a resumed checkpoint.
func WriteTrainLog(path string, steps []TrainStep) error {
	var buf bytes.Buffer
	for _, s := range steps {
		data, err := EncodeTrainStep(s)
		if err != nil {
			return fmt.Errorf("results: %s step %d: %w", path, s.Step, err)
		}
		buf.Write(data)
	}
	return fileio.WriteFile(path, buf.Bytes())
}
