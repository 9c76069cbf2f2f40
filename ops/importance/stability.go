package importance

import (
	"fmt"
	"math"
	"sort"

	"github.com/gominitron/gominitron/results"
)

// Spearman is the rank correlation of a and b (Pearson correlation of their
// ranks, ties getting their average rank). Two constant vectors correlate 1;
// a constant and a varying one 0.
func Spearman(a, b []float64) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("importance: Spearman of vectors of lengths %d and %d", len(a), len(b))
	}
	if len(a) == 0 {
		return 0, fmt.Errorf("importance: Spearman of empty vectors")
	}
	ra, rb := averageRanks(a), averageRanks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	n := float64(len(ra))
	ma /= n
	mb /= n
	var cov, va, vb float64
	for i := range ra {
		da, db := ra[i]-ma, rb[i]-mb
		cov += da * db
		va += da * da
		vb += db * db
	}
	switch {
	case va == 0 && vb == 0:
		return 1, nil
	case va == 0 || vb == 0:
		return 0, nil
	}
	return cov / math.Sqrt(va*vb), nil
}

// averageRanks returns 1-based ranks (ascending), ties averaged.
func averageRanks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	ranks := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		r := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			ranks[idx[k]] = r
		}
		i = j + 1
	}
	return ranks
}

// meanSpearmanPerLayer is the mean over layers of the Spearman correlation
// of each layer's scores (FFN neurons and heads are ranked per layer).
func meanSpearmanPerLayer(a, b [][]float64) (float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, fmt.Errorf("importance: comparing scores of %d and %d layers", len(a), len(b))
	}
	var sum float64
	for l := range a {
		r, err := Spearman(a[l], b[l])
		if err != nil {
			return 0, fmt.Errorf("layer %d: %w", l, err)
		}
		sum += r
	}
	return sum / float64(len(a)), nil
}

// Stability axis names (keys of results.PartPair.Spearman).
const (
	AxisFFN    = "ffn"    // mean over layers of the per-layer Spearman of FFN neuron scores
	AxisHeads  = "heads"  // mean over layers of the per-layer Spearman of head scores
	AxisHidden = "hidden" // Spearman of hidden channel scores
	AxisBI     = "bi"     // Spearman of Block Influence over layers
)

// Axes lists the stability axes in report order.
var Axes = []string{AxisFFN, AxisHeads, AxisHidden, AxisBI}

// CompareScores returns the Spearman correlation per axis between two score
// sets of the same model. Heads with a single head per layer are skipped
// (a one-element ranking carries no information).
func CompareScores(a, b *AxisScores) (map[string]float64, error) {
	out := map[string]float64{}
	var err error
	if out[AxisFFN], err = meanSpearmanPerLayer(a.FFN, b.FFN); err != nil {
		return nil, fmt.Errorf("ffn: %w", err)
	}
	if len(a.Heads) > 0 && len(a.Heads[0]) > 1 {
		if out[AxisHeads], err = meanSpearmanPerLayer(a.Heads, b.Heads); err != nil {
			return nil, fmt.Errorf("heads: %w", err)
		}
	}
	if out[AxisHidden], err = Spearman(a.Hidden, b.Hidden); err != nil {
		return nil, fmt.Errorf("hidden: %w", err)
	}
	if len(a.BI) > 1 {
		if out[AxisBI], err = Spearman(a.BI, b.BI); err != nil {
			return nil, fmt.Errorf("bi: %w", err)
		}
	}
	return out, nil
}

// RankStabilityOf compares every pair of parts; samplesPerPart is recorded
// (the smallest part's number of sequences).
func RankStabilityOf(parts []*AxisScores, samplesPerPart int) (*results.RankStability, error) {
	if len(parts) < 2 {
		return nil, fmt.Errorf("importance: rank stability needs at least 2 parts, got %d", len(parts))
	}
	rs := &results.RankStability{Parts: len(parts), SamplesPerPart: samplesPerPart}
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			sp, err := CompareScores(parts[i], parts[j])
			if err != nil {
				return nil, fmt.Errorf("importance: parts %d and %d: %w", i, j, err)
			}
			rs.Pairs = append(rs.Pairs, results.PartPair{A: i, B: j, Spearman: sp})
		}
	}
	return rs, nil
}

// AxisSummary is the mean and minimum over part pairs of one axis' Spearman
// correlation.
type AxisSummary = results.AxisSummary

// SummarizeStability returns mean and min per axis over all part pairs.
func SummarizeStability(rs *results.RankStability) map[string]AxisSummary {
	out := map[string]AxisSummary{}
	counts := map[string]int{}
	for _, p := range rs.Pairs {
		for axis, v := range p.Spearman {
			s, ok := out[axis]
			if !ok {
				s.Min = math.Inf(1)
			}
			s.Mean += v
			s.Min = math.Min(s.Min, v)
			out[axis] = s
			counts[axis]++
		}
	}
	for axis, s := range out {
		s.Mean /= float64(counts[axis])
		out[axis] = s
	}
	return out
}

// KendallTau is Kendall's τ-b of a and b: (concordant − discordant pairs) /
// √((pairs not tied in a)·(pairs not tied in b)); a pair tied in either
// vector is neither concordant nor discordant. Like Spearman, two constant
// vectors give 1 and a constant and a varying one 0.
func KendallTau(a, b []float64) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("importance: Kendall τ of vectors of lengths %d and %d", len(a), len(b))
	}
	if len(a) == 0 {
		return 0, fmt.Errorf("importance: Kendall τ of empty vectors")
	}
	var conc, disc, tieA, tieB float64 // tieA: tied in a only; tieB: in b only
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			da, db := a[i]-a[j], b[i]-b[j]
			switch {
			case da == 0 && db == 0:
			case da == 0:
				tieA++
			case db == 0:
				tieB++
			case (da > 0) == (db > 0):
				conc++
			default:
				disc++
			}
		}
	}
	notTiedA, notTiedB := conc+disc+tieB, conc+disc+tieA
	switch {
	case notTiedA == 0 && notTiedB == 0:
		return 1, nil
	case notTiedA == 0 || notTiedB == 0:
		return 0, nil
	}
	return (conc - disc) / math.Sqrt(notTiedA*notTiedB), nil
}
