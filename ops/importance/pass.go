package importance

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/support/exceptions"
)

// width axes accumulated per layer, in graph-output order.
var widthTaps = [...]string{tapDownProjIn, tapOProjIn, tapAttnNormOut, tapMLPNormOut}

const (
	actFFN = iota
	actHeads
	actAttnNorm
	actMLPNorm
	numActs
)

// layout describes the flat float32 vector one batch execution returns:
// per layer and per width activation, numBatchStats vectors of that
// activation's width; then biSum [numLayers]; then the scalars below.
type layout struct {
	dims      Dims
	agg       Aggregation
	widths    [numActs]int
	perLayer  int // floats per layer
	biOffset  int
	numScalar int
	total     int
}

// Scalars after the BI sums.
const (
	scalarRows      = iota // sequences with at least one valid token
	scalarTokens           // valid tokens
	scalarLossSum          // Σ next-token cross-entropy over predicted positions (0 without logits)
	scalarLossCount        // predicted positions (0 without logits)
	numScalars
)

func newLayout(d Dims, agg Aggregation) layout {
	l := layout{dims: d, agg: agg}
	l.widths = [numActs]int{d.FFN, d.NumHeads * d.HeadDim, d.Hidden, d.Hidden}
	k := agg.numBatchStats()
	for _, w := range l.widths {
		l.perLayer += k * w
	}
	l.biOffset = d.NumLayers * l.perLayer
	l.numScalar = numScalars
	l.total = l.biOffset + d.NumLayers + numScalars
	return l
}

// accumulator holds the host-side float64 sums of any number of batches.
type accumulator struct {
	lay       layout
	acts      [][numActs]*channelStats // [numLayers]
	biSum     []float64                // [numLayers] Σ_tokens (1 − cos)
	rows      float64
	tokens    float64
	lossSum   float64
	lossCount float64
	batches   int
}

func newAccumulator(lay layout) *accumulator {
	a := &accumulator{lay: lay, acts: make([][numActs]*channelStats, lay.dims.NumLayers), biSum: make([]float64, lay.dims.NumLayers)}
	for l := range a.acts {
		for k, w := range lay.widths {
			a.acts[l][k] = newChannelStats(lay.agg.Batch, w)
		}
	}
	return a
}

// addBatch adds the flat output vector of one batch execution.
func (a *accumulator) addBatch(flat []float32) error {
	lay := a.lay
	if len(flat) != lay.total {
		return fmt.Errorf("importance: batch statistics have %d values, want %d", len(flat), lay.total)
	}
	scalars := flat[lay.biOffset+lay.dims.NumLayers:]
	n := float64(scalars[scalarRows])
	k := lay.agg.numBatchStats()
	off := 0
	stats := make([][]float32, k)
	for l := range a.acts {
		for act, w := range lay.widths {
			for i := range k {
				stats[i] = flat[off : off+w]
				off += w
			}
			a.acts[l][act].addBatch(n, stats)
		}
	}
	for l := range a.biSum {
		a.biSum[l] += float64(flat[lay.biOffset+l])
	}
	a.rows += n
	a.tokens += float64(scalars[scalarTokens])
	a.lossSum += float64(scalars[scalarLossSum])
	a.lossCount += float64(scalars[scalarLossCount])
	a.batches++
	return nil
}

// merge adds another accumulator of the same layout.
func (a *accumulator) merge(o *accumulator) {
	for l := range a.acts {
		for k := range a.acts[l] {
			a.acts[l][k].merge(o.acts[l][k])
		}
		a.biSum[l] += o.biSum[l]
	}
	a.rows += o.rows
	a.tokens += o.tokens
	a.lossSum += o.lossSum
	a.lossCount += o.lossCount
	a.batches += o.batches
}

// AxisScores are the activation-based scores of one pass (or of one part of
// the calibration set).
type AxisScores struct {
	FFN    [][]float64 // [numLayers][ffn]
	Heads  [][]float64 // [numLayers][numHeads]
	Hidden []float64   // [hidden]
	BI     []float64   // [numLayers]
}

// scores turns the accumulated sums into per-axis scores.
func (a *accumulator) scores() *AxisScores {
	d := a.lay.dims
	s := &AxisScores{
		FFN:    make([][]float64, d.NumLayers),
		Heads:  make([][]float64, d.NumLayers),
		Hidden: make([]float64, d.Hidden),
		BI:     make([]float64, d.NumLayers),
	}
	for l := range d.NumLayers {
		s.FFN[l] = a.acts[l][actFFN].scores()
		perChannel := a.acts[l][actHeads].scores() // [numHeads*headDim]
		s.Heads[l] = headNorms(perChannel, d.NumHeads, d.HeadDim)
		for _, act := range []int{actAttnNorm, actMLPNorm} {
			for c, v := range a.acts[l][act].scores() {
				s.Hidden[c] += v
			}
		}
		if a.tokens > 0 {
			s.BI[l] = a.biSum[l] / a.tokens
		}
	}
	return s
}

// headNorms is the L2 norm over each head's headDim channels.
func headNorms(perChannel []float64, numHeads, headDim int) []float64 {
	out := make([]float64, numHeads)
	for h := range numHeads {
		var ss float64
		for _, v := range perChannel[h*headDim : (h+1)*headDim] {
			ss += v * v
		}
		out[h] = math.Sqrt(ss)
	}
	return out
}

// lmLoss is the mean next-token cross-entropy accumulated so far.
func (a *accumulator) lmLoss() float64 {
	if a.lossCount == 0 {
		return math.NaN()
	}
	return a.lossSum / a.lossCount
}

// statsGraph builds, for one batch, the flat statistics vector of layout
// lay: it runs net.forward with a tap that reduces every needed activation
// as soon as it is produced. valid may be nil (no padding in this batch).
func statsGraph(net network, lay layout, params []*Node, ids, valid *Node, wantLoss bool) *Node {
	d := lay.dims
	var mask *seqMask
	if valid != nil {
		mask = newSeqMask(valid)
	}
	layerStats := make([][numActs][]*Node, d.NumLayers)
	residIn := make([]*Node, d.NumLayers)
	biSums := make([]*Node, d.NumLayers)
	tap := func(layer int, name string, x *Node) {
		if layer < 0 || layer >= d.NumLayers {
			exceptions.Panicf("importance: tap %q for layer %d out of range [0, %d)", name, layer, d.NumLayers)
		}
		x = ConvertDType(x, dtypes.Float32)
		act := -1
		switch name {
		case tapDownProjIn:
			act = actFFN
		case tapOProjIn:
			act = actHeads
		case tapAttnNormOut:
			act = actAttnNorm
		case tapMLPNormOut:
			act = actMLPNorm
		case tapResidualIn:
			residIn[layer] = x
		case tapResidualOut:
			if residIn[layer] == nil {
				exceptions.Panicf("importance: tap %q of layer %d came before %q", tapResidualOut, layer, tapResidualIn)
			}
			biSums[layer] = blockInfluenceSum(residIn[layer], x, mask)
			residIn[layer] = nil
		}
		if act >= 0 {
			if got := x.Shape().Dimensions[2]; got != lay.widths[act] {
				exceptions.Panicf("importance: tap %q of layer %d has width %d, want %d", name, layer, got, lay.widths[act])
			}
			layerStats[layer][act] = batchStats(reduceSeq(x, lay.agg.Seq, mask), lay.agg.Batch, mask)
		}
	}
	netLossSum, netLossCount := net.forward(params, ids, valid, nil, nil, tap, wantLoss)

	g := ids.Graph()
	parts := make([]*Node, 0, d.NumLayers*numActs*2+2)
	for l := range d.NumLayers {
		for act := range numActs {
			if layerStats[l][act] == nil {
				exceptions.Panicf("importance: the forward pass did not tap %q of layer %d", widthTaps[act], l)
			}
			parts = append(parts, layerStats[l][act]...)
		}
	}
	for l, b := range biSums {
		if b == nil {
			exceptions.Panicf("importance: the forward pass did not tap %q/%q of layer %d", tapResidualIn, tapResidualOut, l)
		}
	}
	parts = append(parts, Stack(biSums, 0))
	batchSize, seqLen := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1]
	var rows, tokens *Node
	if mask == nil {
		rows = Scalar(g, dtypes.Float32, batchSize)
		tokens = Scalar(g, dtypes.Float32, batchSize*seqLen)
	} else {
		rows = mask.numRows
		tokens = ReduceAllSum(mask.validF)
	}
	lossSum, lossCount := Scalar(g, dtypes.Float32, 0), Scalar(g, dtypes.Float32, 0)
	if wantLoss {
		lossSum, lossCount = netLossSum, netLossCount
	}
	parts = append(parts, Stack([]*Node{rows, tokens, lossSum, lossCount}, 0))
	return Concatenate(parts, 0)
}

// blockInfluenceSum is Σ over valid tokens of 1 − cos(in, out), both
// [batchSize, seqLen, hidden] float32 → scalar.
func blockInfluenceSum(in, out *Node, mask *seqMask) *Node {
	dot := ReduceSum(Mul(in, out), -1) // [batchSize, seqLen]
	nIn := ReduceSum(Square(in), -1)   // [batchSize, seqLen]
	nOut := ReduceSum(Square(out), -1) // [batchSize, seqLen]
	den := MaxScalar(Sqrt(Mul(nIn, nOut)), cosEps)
	oneMinusCos := OneMinus(Div(dot, den)) // [batchSize, seqLen]
	if mask != nil {
		oneMinusCos = Where(mask.valid, oneMinusCos, ZerosLike(oneMinusCos))
	}
	return ReduceAllSum(oneMinusCos)
}

// cosEps bounds the product of norms from below, like torch's
// cosine_similarity (eps 1e-8).
const cosEps = 1e-8

// batchRunner compiles and runs the statistics graph; one compiled graph per
// (batch shape, padded or not).
type batchRunner struct {
	net      network
	lay      layout
	wantLoss bool
	params   []*tensors.Tensor
	plain    *Exec // ids → stats
	masked   *Exec // ids, valid → stats
}

func newBatchRunner(backend compute.Backend, net network, lay layout, wantLoss bool) (*batchRunner, error) {
	r := &batchRunner{net: net, lay: lay, wantLoss: wantLoss, params: net.params()}
	np := len(r.params)
	var err error
	r.plain, err = NewExec(backend, func(g *Graph, in []*Node) *Node {
		return statsGraph(net, lay, in[:np], in[np], nil, wantLoss)
	})
	if err != nil {
		return nil, err
	}
	r.masked, err = NewExec(backend, func(g *Graph, in []*Node) *Node {
		return statsGraph(net, lay, in[:np], in[np], in[np+1], wantLoss)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// run executes one batch and returns its flat statistics.
func (r *batchRunner) run(b *batch) ([]float32, error) {
	args := make([]any, 0, len(r.params)+2)
	for _, p := range r.params {
		args = append(args, p)
	}
	args = append(args, b.ids)
	exec := r.plain
	if b.valid != nil {
		args = append(args, b.valid)
		exec = r.masked
	}
	out, err := exec.Exec(args...)
	releasePassBuffers(r.params)
	if err != nil {
		return nil, fmt.Errorf("importance: running the statistics graph: %w", err)
	}
	flat, err := tensors.CopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	return flat, err
}

func (r *batchRunner) finalize() {
	r.plain.Finalize()
	r.masked.Finalize()
}
