package reproduce

import (
	"strings"
	"testing"
)

// TestLower checks the verdict rule on synthetic per-seed numbers.
func TestLower(t *testing.T) {
	for _, tc := range []struct {
		name         string
		a, b         []float64
		holds, rev   bool
		wantInString string
	}{
		// d = 0.10, 0.12, 0.11: mean 0.11, std 0.01, SE 0.0058 → 0.11 > 0.0115
		{"clear win", []float64{5.00, 5.01, 4.99}, []float64{5.10, 5.13, 5.10}, true, false, "beyond the seed spread"},
		// d = 0.01, −0.01, 0.005: signs disagree, mean tiny
		{"tie within noise", []float64{5.00, 5.02, 4.99}, []float64{5.01, 5.01, 4.995}, false, false, "within the seed spread"},
		// d = 0.2, 0.2, −0.01: one seed disagrees although the mean is large
		{"one seed disagreeing", []float64{5.0, 5.0, 5.0}, []float64{5.2, 5.2, 4.99}, false, false, "2/3 agree"},
		// d = 0.05 in every seed: zero spread, SE 0 → holds on the sign
		{"zero spread", []float64{5.0, 5.1, 5.2}, []float64{5.05, 5.15, 5.25}, true, false, "beyond"},
		// all seeds agree but the spread is wide: d = 0.01, 0.5, 0.01 → mean 0.173, SE 0.163
		{"agree but wide spread", []float64{5, 5, 5}, []float64{5.01, 5.5, 5.01}, false, false, "within"},
		{"reversed", []float64{5.10, 5.13, 5.10}, []float64{5.00, 5.01, 4.99}, false, true, "reversed"},
		{"two seeds only", []float64{5.0, 5.0}, []float64{5.2, 5.2}, false, false, "fewer than 3 seeds"},
		{"equal values", []float64{5, 5, 5}, []float64{5, 5, 5}, false, false, "within"},
		{"unpaired lengths", []float64{5, 5, 5}, []float64{6, 6, 6, 6}, false, false, "fewer than 3 seeds"},
	} {
		c := Lower("A", tc.a, "B", tc.b)
		if c.Holds != tc.holds || c.Reversed() != tc.rev {
			t.Errorf("%s: holds %v reversed %v, want %v %v (%s)", tc.name, c.Holds, c.Reversed(), tc.holds, tc.rev, c)
		}
		if !strings.Contains(c.String(), tc.wantInString) {
			t.Errorf("%s: %q does not say %q", tc.name, c, tc.wantInString)
		}
	}
	// Higher: accuracy 0.6 vs 0.5 in every seed.
	if c := Higher("block", []float64{0.6, 0.61, 0.62}, "layers", []float64{0.5, 0.5, 0.5}); !c.Holds || c.A != "layers" {
		t.Errorf("Higher: %s", c)
	}
}
