package importance

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// aggTolerance is the absolute tolerance of the hand-computed aggregations
// (float32 per-batch reductions of values of order 1–40).
const aggTolerance = 1e-5

func testBackend(t testing.TB) compute.Backend { return fixtures.GoBackend(t) }

// The hand tensor A[b, s, c] (2 sequences × 3 positions × 2 channels):
//
//	b0: ( 1, -2) ( 3,  0) (-1,  4)
//	b1: ( 2,  2) ( 0, -6) ( 4,  1)
//
// Table rows 0…5 are these tokens; row 6 is garbage used only at padding.
var handRows = [][2]float32{{1, -2}, {3, 0}, {-1, 4}, {2, 2}, {0, -6}, {4, 1}, {1e6, -3e5}}

// Per-sequence reductions x[b][c], by hand.
var handSeq = map[SeqAgg][2][2]float64{
	// mean |A|: b0 (1+3+1)/3, (2+0+4)/3; b1 (2+0+4)/3, (2+6+1)/3
	SeqMean: {{5.0 / 3, 2}, {2, 3}},
	// sqrt(Σ A²): b0 √(1+9+1), √(4+0+16); b1 √(4+0+16), √(4+36+1)
	SeqL2: {{math.Sqrt(11), math.Sqrt(20)}, {math.Sqrt(20), math.Sqrt(41)}},
	// population variance: b0 c0 mean 1 → (0+4+4)/3; c1 mean 2/3 → (64+4+100)/27;
	// b1 c0 mean 2 → (0+4+4)/3; c1 mean −1 → (9+25+4)/3
	SeqVar: {{8.0 / 3, 168.0 / 27}, {8.0 / 3, 38.0 / 3}},
}

// handBatch reduces x over the two sequences.
func handBatch(agg BatchAgg, x [2][2]float64) [2]float64 {
	var out [2]float64
	for c := range 2 {
		a, b := x[0][c], x[1][c]
		switch agg {
		case BatchL2:
			out[c] = math.Sqrt(a*a + b*b)
		case BatchMean:
			out[c] = (a + b) / 2
		case BatchVar:
			out[c] = (a - b) * (a - b) / 4
		}
	}
	return out
}

// handBI: the layer swaps the channels, cos((a,b),(b,a)) = 2ab/(a²+b²):
// tokens give 1−cos = 1.8, 1, 1+8/17, 0, 1, 1−8/17 → sum 5.8 over 6 tokens.
const handBI = 5.8 / 6

func TestAggregationVariantsOnHandTensor(t *testing.T) {
	backend := testBackend(t)
	net := newStandIn(handRows)
	unpadded := &Calibration{IDs: [][]int32{{0, 1, 2}, {3, 4, 5}}}
	// The same tokens right-padded to length 5 with garbage rows.
	padded := &Calibration{IDs: [][]int32{{0, 1, 2, 6, 6}, {3, 4, 5, 6, 6}}, Lengths: []int{3, 3}}
	inputs := []struct {
		name      string
		calib     *Calibration
		batchSize int
	}{
		{"one batch", unpadded, 2},
		{"two batches", unpadded, 1},
		{"padded one batch", padded, 2},
		{"padded two batches", padded, 1},
	}
	for _, batchAgg := range []BatchAgg{BatchL2, BatchMean, BatchVar} {
		for _, seqAgg := range []SeqAgg{SeqMean, SeqL2, SeqVar} {
			agg := Aggregation{Batch: batchAgg, Seq: seqAgg}
			want := handBatch(batchAgg, handSeq[seqAgg])
			for _, in := range inputs {
				t.Run(fmt.Sprintf("%s/%s", agg, in.name), func(t *testing.T) {
					s, err := estimate(backend, net, in.calib, Options{Aggregation: agg, BatchSize: in.batchSize})
					if err != nil {
						t.Fatal(err)
					}
					for c := range 2 {
						checkClose(t, fmt.Sprintf("ffn[0][%d]", c), s.FFN[0][c], want[c])
						checkClose(t, fmt.Sprintf("hidden[%d]", c), s.Hidden[c], 2*want[c]) // attn + mlp norm outputs
					}
					checkClose(t, "heads[0][0]", s.Heads[0][0], math.Hypot(want[0], want[1]))
					checkClose(t, "bi[0]", s.BI[0], handBI)
					if s.Tokens != 6 || s.Samples != 2 {
						t.Errorf("tokens %d samples %d, want 6 and 2", s.Tokens, s.Samples)
					}
				})
			}
		}
	}
}

func checkClose(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > aggTolerance*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.7g, want %.7g", what, got, want)
	}
}

func TestParseAggregation(t *testing.T) {
	for _, tc := range []struct {
		batch, seq string
		want       Aggregation
		ok         bool
	}{
		{"", "", Aggregation{BatchL2, SeqMean}, true},
		{"var", "var", Aggregation{BatchVar, SeqVar}, true},
		{"mean", "l2", Aggregation{BatchMean, SeqL2}, true},
		{"max", "", Aggregation{}, false},
		{"l2", "abs", Aggregation{}, false},
	} {
		got, err := ParseAggregation(tc.batch, tc.seq)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseAggregation(%q, %q) = %v, %v", tc.batch, tc.seq, got, err)
		}
	}
}

// TestVarianceMergeIsExact: merging batch variances (Chan) equals the
// variance of all values at once, for uneven batch sizes.
func TestVarianceMergeIsExact(t *testing.T) {
	values := []float64{3, -1, 4, 1, -5, 9, 2, 6}
	var mean, want float64
	for _, v := range values {
		mean += v
	}
	mean /= float64(len(values))
	for _, v := range values {
		want += (v - mean) * (v - mean)
	}
	want /= float64(len(values))
	for _, split := range [][]int{{8}, {1, 7}, {3, 5}, {2, 2, 2, 2}, {5, 1, 2}} {
		acc := newChannelStats(BatchVar, 1)
		start := 0
		for _, n := range split {
			part := values[start : start+n]
			start += n
			var sum, m2 float64
			for _, v := range part {
				sum += v
			}
			for _, v := range part {
				m2 += (v - sum/float64(n)) * (v - sum/float64(n))
			}
			acc.addBatch(float64(n), [][]float32{{float32(sum)}, {float32(m2)}})
		}
		if got := acc.scores()[0]; math.Abs(got-want) > 1e-6 {
			t.Errorf("split %v: variance %g, want %g", split, got, want)
		}
	}
}
