package train

import (
	"fmt"
	"io"
	"time"
)

// Progress is reported after every optimizer update (see RunOptions.Progress).
type Progress struct {
	Step         int     // updates done (1-based after the first update; 0: the validation before training)
	TotalSteps   int     // updates planned
	Loss         float64 // training loss of this update
	ValLoss      *float64
	LR           float64
	GradNorm     float64
	Tokens       int64   // token ids consumed so far
	TokensPerSec float64 // training throughput of this run (validation and checkpoint time excluded)
	Elapsed      time.Duration
	ETA          time.Duration // estimated time to TotalSteps at the current pace
	Metrics      map[string]float64
	Checkpoint   string // path of a checkpoint written after this update, if any
}

// TerminalProgress returns a progress callback that prints one line every
// `every` updates (and at the first and last update, after a validation and
// after a checkpoint) to w, e.g.
//
//	step   120/2000  loss 4.1234  val 4.2001  lr 9.81e-04  |g| 0.812  2,310 tok/s  elapsed 1m02s  ETA 16m20s
func TerminalProgress(w io.Writer, every int) func(Progress) {
	if every <= 0 {
		every = 1
	}
	return func(p Progress) {
		if p.Step == 0 && p.ValLoss != nil {
			fmt.Fprintf(w, "step %6d/%d  val %.4f (before training)\n", 0, p.TotalSteps, *p.ValLoss)
			return
		}
		if p.Step%every != 0 && p.Step != 1 && p.Step != p.TotalSteps && p.ValLoss == nil && p.Checkpoint == "" {
			return
		}
		val := ""
		if p.ValLoss != nil {
			val = fmt.Sprintf("  val %.4f", *p.ValLoss)
		}
		fmt.Fprintf(w, "step %6d/%d  loss %.4f%s  lr %.2e  |g| %.3f  %s tok/s  elapsed %s  ETA %s\n",
			p.Step, p.TotalSteps, p.Loss, val, p.LR, p.GradNorm, groupThousands(p.TokensPerSec),
			p.Elapsed.Round(time.Second), p.ETA.Round(time.Second))
		if p.Checkpoint != "" {
			fmt.Fprintf(w, "checkpoint: %s\n", p.Checkpoint)
		}
	}
}

// groupThousands formats x rounded to an integer with thousands separators.
func groupThousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
