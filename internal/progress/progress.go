// Package progress owns the arithmetic and terminal rendering of progress
// with an estimated time to completion: ETA at the measured rate of the
// work done so far, and Stages, a one-line-per-stage meter for commands
// whose long loops run in stages (calibration batches, drop-one layers,
// tensors, batches), each stage with its own rate. The notebook meter
// (kernel.Progress) and the CLI both use it.
package progress

import (
	"fmt"
	"io"
	"time"
)

// ETA is the time left to reach total at the rate measured so far (elapsed
// for done units); ok is false until a unit is done or once all are.
func ETA(elapsed time.Duration, done, total int64) (eta time.Duration, ok bool) {
	if total <= 0 || done <= 0 || done >= total {
		return 0, false
	}
	return time.Duration(float64(elapsed) * float64(total-done) / float64(done)), true
}

// Round rounds d for display: whole seconds above a minute, tenths above a
// second, milliseconds below.
func Round(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// Stages prints progress lines "\rPREFIX: STAGE done/total UNIT (elapsed,
// ETA d)" to W, redrawn in place; a stage's line ends with a newline when
// the stage completes or another begins. The ETA is at the rate of the
// current stage (stages differ in cost per unit).
type Stages struct {
	W      io.Writer
	Prefix string           // e.g. "importance"
	Now    func() time.Time // clock (nil: time.Now), for tests

	started, stageStarted time.Time
	stage                 string
	open                  bool // a line without its newline
}

func (s *Stages) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Update reports done of total units of stage (unit: e.g. "batches").
func (s *Stages) Update(stage string, done, total int64, unit string) {
	t := s.now()
	if s.started.IsZero() {
		s.started = t
	}
	if stage != s.stage || s.stageStarted.IsZero() {
		if s.open {
			fmt.Fprintln(s.W)
		}
		s.stage, s.stageStarted = stage, t
	}
	eta := "?"
	if e, ok := ETA(t.Sub(s.stageStarted), done, total); ok {
		eta = Round(e).String()
	} else if done >= total {
		eta = "0s"
	}
	label := stage
	if label != "" {
		label += " "
	}
	if unit != "" {
		unit = " " + unit
	}
	fmt.Fprintf(s.W, "\r%s: %s%d/%d%s (%s, ETA %s)", s.Prefix, label, done, total, unit, Round(t.Sub(s.started)), eta)
	s.open = done < total
	if !s.open {
		fmt.Fprintln(s.W)
	}
}
