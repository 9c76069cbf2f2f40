package importance

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// removal is a contiguous block of removed layers start … end−1.
type removal struct{ start, end int }

// blockRemovals are the numLayers−k+1 removals of k consecutive layers.
func blockRemovals(numLayers, k int) []removal {
	out := make([]removal, 0, numLayers-k+1)
	for s := 0; s+k <= numLayers; s++ {
		out = append(out, removal{s, s + k})
	}
	return out
}

// prefixScorer computes the LM loss of the model without a block of layers
// by reusing the full model's per-layer inputs: layers before the block see
// exactly the full model's residual stream, so the model without layers
// s … e−1 is layers e … numLayers−1 (and the head) run on the residual
// stream entering layer s. Per batch one forward collects those inputs;
// each removal then costs only the layers after it plus the head, instead
// of a whole forward. Compiled graphs: one for the inputs and one per first
// layer run (per batch shape and padding), reused by every removal and batch.
type prefixScorer struct {
	backend   compute.Backend
	net       network
	calib     *Calibration
	batchSize int

	inputs *Exec         // params, ids (, valid) → numLayers × residual stream entering each layer
	tails  map[int]*Exec // first layer → params, x, ids (, valid) → [lossSum, count]
}

func newPrefixScorer(backend compute.Backend, net network, calib *Calibration, batchSize int) *prefixScorer {
	return &prefixScorer{backend: backend, net: net, calib: calib, batchSize: batchSize, tails: map[int]*Exec{}}
}

// losses returns the mean next-token loss over the calibration set of the
// model without each removal; progress (may be nil) is called after each
// (batch, removal) run.
func (p *prefixScorer) losses(removals []removal, progress func(done, total int)) ([]float64, error) {
	d := p.net.dims()
	for _, r := range removals {
		if r.start < 0 || r.end <= r.start || r.end > d.NumLayers {
			return nil, fmt.Errorf("importance: cannot remove layers %d..%d of %d", r.start, r.end-1, d.NumLayers)
		}
	}
	sums, counts := make([]float64, len(removals)), make([]float64, len(removals))
	numBatches := p.calib.numBatches(p.batchSize)
	total, done := numBatches*len(removals), 0
	for i := range numBatches {
		b := p.calib.batch(i, p.batchSize)
		hidden, err := p.layerInputs(b)
		if err != nil {
			b.finalize()
			return nil, err
		}
		for j, r := range removals {
			sum, count, err := p.tailLoss(hidden[r.start], b, r.end)
			if err != nil {
				finalizeAll(hidden)
				b.finalize()
				return nil, fmt.Errorf("importance: LM loss with layers %d..%d removed, batch %d of %d: %w", r.start, r.end-1, i+1, numBatches, err)
			}
			sums[j] += sum
			counts[j] += count
			if done++; progress != nil {
				progress(done, total)
			}
		}
		finalizeAll(hidden)
		b.finalize()
	}
	out := make([]float64, len(removals))
	for j := range out {
		if counts[j] == 0 {
			return nil, fmt.Errorf("importance: no predicted positions in the calibration set")
		}
		out[j] = sums[j] / counts[j]
	}
	return out, nil
}

// layerInputs runs the full model on the batch and returns the residual
// stream entering each layer, numLayers × [batchSize, seqLen, hidden].
func (p *prefixScorer) layerInputs(b *batch) ([]*tensors.Tensor, error) {
	numLayers := p.net.dims().NumLayers
	params := p.net.params()
	np := len(params)
	if p.inputs == nil {
		exec, err := NewExec(p.backend, func(g *Graph, in []*Node) []*Node {
			var valid *Node
			if len(in) > np+1 {
				valid = in[np+1]
			}
			hidden := make([]*Node, numLayers)
			tap := func(layer int, name string, x *Node) {
				if name == tapResidualIn {
					hidden[layer] = x
				}
			}
			p.net.forward(in[:np], in[np], valid, nil, nil, tap, false)
			return hidden
		})
		if err != nil {
			return nil, err
		}
		p.inputs = exec
	}
	out, err := p.inputs.Exec(p.args(nil, b)...)
	releasePassBuffers(p.net.params())
	if err != nil {
		return nil, fmt.Errorf("importance: the full model's layer inputs: %w", err)
	}
	return out, nil
}

// tailLoss runs layers first … numLayers−1 and the head on x and returns
// the batch's next-token loss sum and predicted-position count.
func (p *prefixScorer) tailLoss(x *tensors.Tensor, b *batch, first int) (sum, count float64, err error) {
	exec := p.tails[first]
	if exec == nil {
		np := len(p.net.params())
		exec, err = NewExec(p.backend, func(g *Graph, in []*Node) *Node {
			var valid *Node
			if len(in) > np+2 {
				valid = in[np+2]
			}
			sum, count := p.net.forwardFrom(in[:np], in[np], in[np+1], valid, first)
			return Stack([]*Node{sum, count}, 0)
		})
		if err != nil {
			return 0, 0, err
		}
		p.tails[first] = exec
	}
	out, err := exec.Exec(p.args(x, b)...)
	releasePassBuffers(p.net.params())
	if err != nil {
		return 0, 0, err
	}
	v, err := tensors.CopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	if err != nil {
		return 0, 0, err
	}
	return float64(v[0]), float64(v[1]), nil
}

// args are the graph inputs: params, (x,) ids (, valid).
func (p *prefixScorer) args(x *tensors.Tensor, b *batch) []any {
	params := p.net.params()
	args := make([]any, 0, len(params)+3)
	for _, t := range params {
		args = append(args, t)
	}
	if x != nil {
		args = append(args, x)
	}
	args = append(args, b.ids)
	if b.valid != nil {
		args = append(args, b.valid)
	}
	return args
}

// finalize releases the compiled graphs.
func (p *prefixScorer) finalize() {
	if p.inputs != nil {
		p.inputs.Finalize()
		p.inputs = nil
	}
	for first, e := range p.tails {
		e.Finalize()
		delete(p.tails, first)
	}
}

func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		t.FinalizeAll()
	}
}
