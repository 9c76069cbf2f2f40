package reproduce

import (
	"fmt"
	"math"
)

// The verdict rule's constants.
const (
	// MinSeeds is the fewest seeds a comparison needs to decide anything.
	MinSeeds = 3
	// SeparationSE is how many standard errors the mean paired difference
	// must exceed.
	SeparationSE = 2.0
)

// Comparison is the outcome of the verdict rule for "A is lower than B" over
// seeds (see Lower).
type Comparison struct {
	A, B     string  // names: the claim is A < B
	N        int     // seeds
	Agree    int     // seeds where A < B
	Against  int     // seeds where B < A
	MeanDiff float64 // mean over seeds of B − A
	SE       float64 // standard error of that mean: sample std / √N
	Holds    bool
}

// Lower is the one verdict rule of every experiment: A (per-seed values a)
// is lower than B (per-seed values b, paired with a by seed: same data order
// and calibration draw) beyond the seed spread when
//
//   - there are at least MinSeeds seeds,
//   - A < B in every seed, and
//   - the mean paired difference mean(b − a) exceeds SeparationSE standard
//     errors of that mean (sample std of b − a over √N).
//
// With zero spread (every seed the same difference) the last condition is
// mean > 0. Higher-is-better quantities (accuracy) use Higher.
func Lower(aName string, a []float64, bName string, b []float64) Comparison {
	c := Comparison{A: aName, B: bName, N: min(len(a), len(b))}
	if len(a) != len(b) {
		c.N = 0 // unpaired: never holds
		return c
	}
	d := make([]float64, c.N)
	for i := range d {
		d[i] = b[i] - a[i]
		switch {
		case d[i] > 0:
			c.Agree++
		case d[i] < 0:
			c.Against++
		}
	}
	mean, std := meanStd(d)
	c.MeanDiff = mean
	if c.N > 0 {
		c.SE = std / math.Sqrt(float64(c.N))
	}
	c.Holds = c.N >= MinSeeds && c.Agree == c.N && mean > SeparationSE*c.SE
	return c
}

// Higher is Lower for higher-is-better values: A higher than B beyond the
// seed spread (the comparison reads "B < A").
func Higher(aName string, a []float64, bName string, b []float64) Comparison {
	return Lower(bName, b, aName, a)
}

// String states the comparison with its numbers, e.g. "KD < CE by 0.0123 ±
// 0.0021 (SE, 3 seeds, 3/3 agree): beyond the seed spread".
func (c Comparison) String() string {
	s := fmt.Sprintf("%s < %s by %.4f ± %.4f (SE, %d seeds, %d/%d agree)", c.A, c.B, c.MeanDiff, c.SE, c.N, c.Agree, c.N)
	switch {
	case c.Holds:
		return s + ": beyond the seed spread"
	case c.N < MinSeeds:
		return s + fmt.Sprintf(": undecided, fewer than %d seeds", MinSeeds)
	case c.Reversed():
		return s + ": reversed beyond the seed spread"
	default:
		return s + ": within the seed spread"
	}
}

// Reversed says whether B < A beyond the seed spread (the same rule with
// A and B swapped).
func (c Comparison) Reversed() bool {
	return c.N >= MinSeeds && c.Against == c.N && -c.MeanDiff > SeparationSE*c.SE
}
