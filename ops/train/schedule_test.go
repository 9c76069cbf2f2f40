package train

import (
	"math"
	"testing"
)

// scheduleTol is the tolerance on learning-rate values (float64 arithmetic).
const scheduleTol = 1e-15

func TestScheduleKeySteps(t *testing.T) {
	s := Schedule{PeakLR: 1e-3, MinLR: 1e-4, WarmupSteps: 10, TotalSteps: 111}
	cases := []struct {
		name string
		step int
		want float64
	}{
		{"first step", 0, 1e-4},
		{"mid warm-up", 4, 5e-4},
		{"warm-up end", 9, 1e-3},
		{"decay start", 10, 1e-3},
		{"middle of decay", 60, 0.55e-3}, // cos(π/2) = 0: halfway between peak and min
		{"last step", 110, 1e-4},
		{"past the end", 500, 1e-4},
	}
	for _, c := range cases {
		if got := s.LR(c.step); math.Abs(got-c.want) > scheduleTol {
			t.Errorf("%s: LR(%d) = %g, want %g", c.name, c.step, got, c.want)
		}
	}
	// Monotone non-increasing after warm-up.
	for step := 10; step < 110; step++ {
		if s.LR(step+1) > s.LR(step) {
			t.Fatalf("LR increases at step %d", step)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	bad := []Schedule{
		{PeakLR: 1e-3, TotalSteps: 0},
		{PeakLR: 0, TotalSteps: 10},
		{PeakLR: 1e-3, MinLR: 1e-2, TotalSteps: 10},
		{PeakLR: 1e-3, WarmupSteps: 11, TotalSteps: 10},
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if err := (Schedule{PeakLR: 1e-3, MinLR: 1e-4, WarmupSteps: 0, TotalSteps: 1}).Validate(); err != nil {
		t.Error(err)
	}
}
