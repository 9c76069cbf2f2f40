package distill

import (
	"testing"

	"github.com/gomlx/compute"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/train"
)

// newDistillTrainer is the set-up the benchmarks and the speed test share:
// teacher (frozen) and student in one store, the projection when the loss
// has an intermediate term, loss o, and a trainer with AdamW, clipping at 1
// and a flat-ish schedule (peakLR → peakLR/10 over 2^20 updates).
func newDistillTrainer(tb testing.TB, be compute.Backend, teacher, student *llm.Model, o Loss, peakLR float64) *train.Trainer {
	tb.Helper()
	tcfg, scfg := teacher.Config, student.Config
	store, err := NewStore(teacher, student)
	if err != nil {
		tb.Fatal(err)
	}
	if o.hasIS() {
		if err := CreateProjection(store, tcfg.Hidden, scfg.Hidden, nil, 3); err != nil {
			tb.Fatal(err)
		}
	}
	lf, err := NewLossFn(tcfg, scfg, o)
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := train.New(be, store, lf, train.Config{Schedule: train.Schedule{PeakLR: peakLR, MinLR: peakLR / 10, TotalSteps: 1 << 20},
		AdamW: train.DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}
