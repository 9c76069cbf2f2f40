package kernel

import (
	"fmt"

	"github.com/gominitron/gominitron/ops/train"
)

// Stage has the signature of importance.Options.Progress (func(stage
// string, done, total int)): the stage name becomes the message.
func (p *Progress) Stage(stage string, done, total int) { p.Update(done, total, stage) }

// Train has the signature of train.RunOptions.Progress (and distillation's,
// which reuses the trainer): steps drive the bar, and the message shows loss,
// validation loss, learning rate and throughput.
func (p *Progress) Train(tp train.Progress) {
	msg := fmt.Sprintf("loss %.4f", tp.Loss)
	if tp.ValLoss != nil {
		msg += fmt.Sprintf("  val %.4f", *tp.ValLoss)
	}
	msg += fmt.Sprintf("  lr %.2e  |g| %.3f  %.0f tok/s", tp.LR, tp.GradNorm, tp.TokensPerSec)
	if tp.Checkpoint != "" {
		msg += "  checkpoint " + tp.Checkpoint
	}
	p.Update(tp.Step, tp.TotalSteps, msg)
}
