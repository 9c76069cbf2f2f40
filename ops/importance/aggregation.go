package importance

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better unqualified
)

// BatchAgg is how the per-sequence values x[b, c] are reduced over all
// calibration sequences b (across batches).
type BatchAgg string

// SeqAgg is how an activation A[b, s, c] is reduced over the valid positions
// s of each sequence.
type SeqAgg string

const (
	BatchL2   BatchAgg = "l2"   // sqrt(Σ_b x²)
	BatchMean BatchAgg = "mean" // (1/N) Σ_b x
	BatchVar  BatchAgg = "var"  // (1/N) Σ_b (x − mean)²  (population variance)

	SeqMean SeqAgg = "mean" // (1/S) Σ_s |A|   (mean of absolute values)
	SeqL2   SeqAgg = "l2"   // sqrt(Σ_s A²)
	SeqVar  SeqAgg = "var"  // (1/S) Σ_s (A − mean_s A)²  (population variance)
)

// Aggregation selects the batch and sequence reductions. The zero value is
// not valid; use DefaultAggregation or ParseAggregation.
type Aggregation struct {
	Batch BatchAgg
	Seq   SeqAgg
}

// DefaultAggregation is ModelOpt's and the fixtures' choice: batch = L2,
// sequence = mean of absolute values (best zero-shot LM loss in Minitron P1).
func DefaultAggregation() Aggregation { return Aggregation{Batch: BatchL2, Seq: SeqMean} }

// ParseAggregation validates the names used by the CLI flags --batch-agg and
// --seq-agg; an empty string selects the default of that axis.
func ParseAggregation(batch, seq string) (Aggregation, error) {
	a := DefaultAggregation()
	if batch != "" {
		a.Batch = BatchAgg(batch)
	}
	if seq != "" {
		a.Seq = SeqAgg(seq)
	}
	return a, a.Validate()
}

// Validate reports an unknown reduction name.
func (a Aggregation) Validate() error {
	switch a.Batch {
	case BatchL2, BatchMean, BatchVar:
	default:
		return fmt.Errorf("importance: unknown batch aggregation %q (want l2, mean or var)", a.Batch)
	}
	switch a.Seq {
	case SeqMean, SeqL2, SeqVar:
	default:
		return fmt.Errorf("importance: unknown sequence aggregation %q (want mean, l2 or var)", a.Seq)
	}
	return nil
}

// String is "batch=l2,seq=mean".
func (a Aggregation) String() string { return fmt.Sprintf("batch=%s,seq=%s", a.Batch, a.Seq) }

// numBatchStats is how many [c] vectors one batch contributes per activation:
// Σ_b x² (l2), Σ_b x (mean), or Σ_b x and Σ_b (x − batch mean)² (var).
func (a Aggregation) numBatchStats() int {
	if a.Batch == BatchVar {
		return 2
	}
	return 1
}

// seqMask is the padding information of one batch inside the graph; nil
// means "every position is valid" (no masking ops are emitted).
type seqMask struct {
	valid    *Node // [batchSize, seqLen] bool
	validF   *Node // [batchSize, seqLen] float32, 1 = valid
	invCount *Node // [batchSize, 1] float32: 1/max(valid positions, 1)
	rowValid *Node // [batchSize, 1] float32: 1 if the row has any valid position
	numRows  *Node // [] float32: Σ rowValid
}

func newSeqMask(valid *Node) *seqMask {
	validF := ConvertDType(valid, dtypes.Float32)
	count := ReduceSum(validF, 1) // [batchSize]
	rowValid := ConvertDType(GreaterThan(count, ScalarZero(valid.Graph(), dtypes.Float32)), dtypes.Float32)
	return &seqMask{
		valid:    valid,
		validF:   validF,
		invCount: InsertAxes(Inverse(MaxScalar(count, 1.0)), -1),
		rowValid: InsertAxes(rowValid, -1),
		numRows:  ReduceAllSum(rowValid),
	}
}

// maskPositions zeroes the padded positions of a [batchSize, seqLen, c]
// activation (with Where, so NaN/Inf computed at padding cannot leak).
func (m *seqMask) maskPositions(a *Node) *Node {
	if m == nil {
		return a
	}
	valid := BroadcastToDims(InsertAxes(m.valid, -1), a.Shape().Dimensions...)
	return Where(valid, a, ZerosLike(a))
}

// reduceSeq reduces the float32 activation a [batchSize, seqLen, c] over the
// valid positions of each sequence → [batchSize, c].
func reduceSeq(a *Node, agg SeqAgg, m *seqMask) *Node {
	seqLen := a.Shape().Dimensions[1]
	a = m.maskPositions(a)
	meanOver := func(x *Node) *Node { // x already masked; [batchSize, seqLen, c] → [batchSize, c]
		s := ReduceSum(x, 1)
		if m == nil {
			return DivScalar(s, float64(seqLen))
		}
		return Mul(s, m.invCount)
	}
	switch agg {
	case SeqMean:
		return meanOver(Abs(a))
	case SeqL2:
		return Sqrt(ReduceSum(Square(a), 1))
	case SeqVar:
		mu := InsertAxes(meanOver(a), 1) // [batchSize, 1, c]
		d := m.maskPositions(Sub(a, mu))
		return meanOver(Square(d))
	}
	panic(fmt.Sprintf("importance: unknown sequence aggregation %q", agg))
}

// batchStats reduces x [batchSize, c] over the batch into the vectors the
// host accumulates (see Aggregation.numBatchStats). For var it returns
// Σ_b x and M2 = Σ_b (x − Σx/n)² over the valid rows.
func batchStats(x *Node, agg BatchAgg, m *seqMask) []*Node {
	switch agg {
	case BatchL2:
		return []*Node{ReduceSum(Square(x), 0)}
	case BatchMean:
		return []*Node{ReduceSum(x, 0)}
	case BatchVar:
		sum := ReduceSum(x, 0) // [c]
		var mean, d *Node
		if m == nil {
			mean = DivScalar(sum, float64(x.Shape().Dimensions[0]))
			d = Sub(x, InsertAxes(mean, 0))
		} else {
			mean = Div(sum, MaxScalar(m.numRows, 1.0))
			d = Mul(Sub(x, InsertAxes(mean, 0)), m.rowValid)
		}
		return []*Node{sum, ReduceSum(Square(d), 0)}
	}
	panic(fmt.Sprintf("importance: unknown batch aggregation %q", agg))
}

// channelStats accumulates, on the host in float64, the batch reduction of
// one activation over any number of batches.
type channelStats struct {
	n     float64   // sequences seen
	sum   []float64 // Σ_b x        (mean, var)
	sumSq []float64 // Σ_b x²       (l2)
	m2    []float64 // Σ_b (x − x̄)² (var)
}

func newChannelStats(agg BatchAgg, c int) *channelStats {
	s := &channelStats{}
	switch agg {
	case BatchL2:
		s.sumSq = make([]float64, c)
	case BatchMean:
		s.sum = make([]float64, c)
	case BatchVar:
		s.sum = make([]float64, c)
		s.m2 = make([]float64, c)
	}
	return s
}

// addBatch merges one batch: n sequences and the vectors of batchStats, in
// the same order. Variances merge exactly (Chan et al.).
func (s *channelStats) addBatch(n float64, stats [][]float32) {
	switch {
	case s.sumSq != nil:
		for i, v := range stats[0] {
			s.sumSq[i] += float64(v)
		}
	case s.m2 != nil:
		s.mergeVar(n, stats[0], stats[1])
	default:
		for i, v := range stats[0] {
			s.sum[i] += float64(v)
		}
	}
	s.n += n
}

func (s *channelStats) mergeVar(nb float64, sumB, m2B []float32) {
	na := s.n
	if nb == 0 {
		return
	}
	for i := range s.sum {
		sb := float64(sumB[i])
		if na > 0 {
			delta := sb/nb - s.sum[i]/na
			s.m2[i] += float64(m2B[i]) + delta*delta*na*nb/(na+nb)
		} else {
			s.m2[i] += float64(m2B[i])
		}
		s.sum[i] += sb
	}
}

// merge adds another accumulator of the same aggregation and size.
func (s *channelStats) merge(o *channelStats) {
	switch {
	case s.sumSq != nil:
		for i, v := range o.sumSq {
			s.sumSq[i] += v
		}
	case s.m2 != nil:
		na, nb := s.n, o.n
		if nb > 0 {
			for i := range s.sum {
				if na > 0 {
					delta := o.sum[i]/nb - s.sum[i]/na
					s.m2[i] += o.m2[i] + delta*delta*na*nb/(na+nb)
				} else {
					s.m2[i] += o.m2[i]
				}
				s.sum[i] += o.sum[i]
			}
		}
	default:
		for i, v := range o.sum {
			s.sum[i] += v
		}
	}
	s.n += o.n
}

// scores returns the per-channel score: sqrt(Σ x²), Σ x / N or M2 / N.
func (s *channelStats) scores() []float64 {
	var out []float64
	switch {
	case s.sumSq != nil:
		out = make([]float64, len(s.sumSq))
		for i, v := range s.sumSq {
			out[i] = math.Sqrt(v)
		}
	case s.m2 != nil:
		out = make([]float64, len(s.m2))
		if s.n > 0 {
			for i, v := range s.m2 {
				out[i] = v / s.n
			}
		}
	default:
		out = make([]float64, len(s.sum))
		if s.n > 0 {
			for i, v := range s.sum {
				out[i] = v / s.n
			}
		}
	}
	return out
}
