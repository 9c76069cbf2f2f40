package importance

import (
	"math"
	"testing"
)

// TestRightPaddingDoesNotCount: the reference sequences truncated to 24
// tokens score the same as the full 32-token rows right-padded after 24
// (the padding holds other ids), on the real model, for every axis and the
// LM losses.
func TestRightPaddingDoesNotCount(t *testing.T) {
	backend := testBackend(t)
	m := loadTestModel(t, "dev-llama-gqa")
	const keep = 24
	truncated := &Calibration{}
	padded := &Calibration{}
	for _, row := range m.ids {
		truncated.IDs = append(truncated.IDs, row[:keep])
		padded.IDs = append(padded.IDs, row)
		padded.Lengths = append(padded.Lengths, keep)
	}
	for _, agg := range []Aggregation{DefaultAggregation(), {BatchVar, SeqVar}, {BatchMean, SeqL2}} {
		opts := Options{Aggregation: agg, BatchSize: 2, DropOne: true, BlockSize: 2}
		a, err := Estimate(backend, m.cfg, m.weights, truncated, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Estimate(backend, m.cfg, m.weights, padded, opts)
		if err != nil {
			t.Fatal(err)
		}
		if a.Tokens != 4*keep || b.Tokens != 4*keep {
			t.Errorf("%s: tokens %d and %d, want %d", agg, a.Tokens, b.Tokens, 4*keep)
		}
		checkSame(t, agg.String()+" ffn", flatten(a.FFN), flatten(b.FFN))
		checkSame(t, agg.String()+" heads", flatten(a.Heads), flatten(b.Heads))
		checkSame(t, agg.String()+" hidden", a.Hidden, b.Hidden)
		checkSame(t, agg.String()+" bi", a.BI, b.BI)
		checkSame(t, agg.String()+" lm_loss", []float64{a.LMLoss}, []float64{b.LMLoss})
		checkSame(t, agg.String()+" drop_one", a.DropOneLMLoss, b.DropOneLMLoss)
		checkSame(t, agg.String()+" block", a.BlockLMLoss, b.BlockLMLoss)
	}
}

// TestMixedLengthsEqualPerSequenceRuns: a batch of rows of different
// lengths (batch L2 aggregation) equals the combination of one run per row
// at its exact length: Σ of squared scores for ffn, token-weighted means for
// BI and LM loss.
func TestMixedLengthsEqualPerSequenceRuns(t *testing.T) {
	backend := testBackend(t)
	m := loadTestModel(t, "dev-qwen2-bias")
	lengths := []int{20, 32, 9, 27}
	padded := &Calibration{IDs: m.ids, Lengths: lengths}
	got, err := Estimate(backend, m.cfg, m.weights, padded, Options{BatchSize: 4, LMLoss: true})
	if err != nil {
		t.Fatal(err)
	}
	ffnSq := make([]float64, len(flatten(got.FFN)))
	bi := make([]float64, m.cfg.NumLayers)
	var lossSum, lossCount, tokens float64
	for i, row := range m.ids {
		s, err := Estimate(backend, m.cfg, m.weights, &Calibration{IDs: [][]int32{row[:lengths[i]]}}, Options{BatchSize: 1, LMLoss: true})
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range flatten(s.FFN) {
			ffnSq[j] += v * v
		}
		for l, v := range s.BI {
			bi[l] += v * float64(lengths[i])
		}
		tokens += float64(lengths[i])
		lossSum += s.LMLoss * float64(lengths[i]-1)
		lossCount += float64(lengths[i] - 1)
	}
	for j := range ffnSq {
		ffnSq[j] = math.Sqrt(ffnSq[j])
	}
	for l := range bi {
		bi[l] /= tokens
	}
	checkSame(t, "ffn", flatten(got.FFN), ffnSq)
	checkSame(t, "bi", got.BI, bi)
	checkSame(t, "lm_loss", []float64{got.LMLoss}, []float64{lossSum / lossCount})
}
