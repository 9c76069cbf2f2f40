package train

import (
	"fmt"
	"math"
)

// Schedule is a linear warm-up followed by a cosine decay to MinLR.
//
// For an update index step (0-based: the step-th optimizer update):
//
//	step < WarmupSteps:  lr = PeakLR · (step+1) / WarmupSteps
//	otherwise:           p  = (step − WarmupSteps) / (TotalSteps − 1 − WarmupSteps), clamped to [0, 1]
//	                     lr = MinLR + ½ (PeakLR − MinLR) (1 + cos(π p))
//
// so the first update already moves (lr > 0), the last warm-up update and the
// first decay update use PeakLR, and the last update (TotalSteps−1) uses
// MinLR exactly.
type Schedule struct {
	PeakLR      float64 `json:"peak_lr"`
	MinLR       float64 `json:"min_lr"`
	WarmupSteps int     `json:"warmup_steps"`
	TotalSteps  int     `json:"total_steps"`
}

// Validate reports an unusable schedule.
func (s Schedule) Validate() error {
	switch {
	case s.TotalSteps <= 0:
		return fmt.Errorf("schedule: total_steps must be > 0, got %d", s.TotalSteps)
	case s.WarmupSteps < 0 || s.WarmupSteps > s.TotalSteps:
		return fmt.Errorf("schedule: warmup_steps must be in [0, total_steps=%d], got %d", s.TotalSteps, s.WarmupSteps)
	case !(s.PeakLR > 0) || math.IsInf(s.PeakLR, 0):
		return fmt.Errorf("schedule: peak_lr must be a positive number, got %g", s.PeakLR)
	case s.MinLR < 0 || s.MinLR > s.PeakLR:
		return fmt.Errorf("schedule: min_lr must be in [0, peak_lr=%g], got %g", s.PeakLR, s.MinLR)
	}
	return nil
}

// LR returns the learning rate of the step-th update (0-based).
func (s Schedule) LR(step int) float64 {
	if step < s.WarmupSteps {
		return s.PeakLR * float64(step+1) / float64(s.WarmupSteps)
	}
	span := s.TotalSteps - 1 - s.WarmupSteps
	p := 1.0
	if span > 0 {
		p = float64(step-s.WarmupSteps) / float64(span)
	}
	p = math.Max(0, math.Min(1, p))
	return s.MinLR + 0.5*(s.PeakLR-s.MinLR)*(1+math.Cos(math.Pi*p))
}
