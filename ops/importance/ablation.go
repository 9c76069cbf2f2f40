package importance

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// ScoreFn scores the model with the layers marked true in skip removed
// (skip has numLayers entries). It may be an LM loss (lower is better) or a
// downstream accuracy (higher is better): the sweeps below only call it.
type ScoreFn func(skip []bool) (float64, error)

// DropOne scores the model with each single layer removed: out[l] =
// score(skip only layer l).
func DropOne(numLayers int, score ScoreFn, progress func(done, total int)) ([]float64, error) {
	return BlockSweep(numLayers, 1, score, progress)
}

// BlockSweep scores the model with every contiguous block of k layers
// removed: out[s] = score(skip layers s … s+k−1), s = 0 … numLayers−k.
func BlockSweep(numLayers, k int, score ScoreFn, progress func(done, total int)) ([]float64, error) {
	if k < 1 || k > numLayers {
		return nil, fmt.Errorf("importance: block size %d out of range [1, %d]", k, numLayers)
	}
	total := numLayers - k + 1
	out := make([]float64, total)
	for start := range total {
		skip := make([]bool, numLayers)
		for l := start; l < start+k; l++ {
			skip[l] = true
		}
		v, err := score(skip)
		if err != nil {
			return nil, fmt.Errorf("importance: scoring with layers %d..%d removed: %w", start, start+k-1, err)
		}
		out[start] = v
		if progress != nil {
			progress(start+1, total)
		}
	}
	return out, nil
}

// lossScorer computes the mean next-token cross-entropy over a calibration
// set with any pattern of layers removed. By default the removed layers are
// a graph input (llm.ForwardOptions.LayerMask), so one compiled graph (per
// batch shape and padding) serves every skip pattern; with static, one graph
// is compiled per pattern (ForwardOptions.SkipLayers: removed layers cost
// nothing) and released after use. Estimate's own sweeps use prefixScorer.
type lossScorer struct {
	backend   compute.Backend
	net       network
	calib     *Calibration
	batchSize int
	static    bool // one compilation per skip pattern

	masked *Exec // keep-vector graph, built on first use
}

// score implements ScoreFn.
func (s *lossScorer) score(skip []bool) (float64, error) {
	d := s.net.dims()
	if skip != nil && len(skip) != d.NumLayers {
		return 0, fmt.Errorf("importance: skip mask has %d entries, model has %d layers", len(skip), d.NumLayers)
	}
	skip = append([]bool(nil), skip...)
	params := s.net.params()
	np := len(params)
	var exec *Exec
	var extra []any // inputs after ids (and valid)
	if s.static {
		var err error
		exec, err = NewExec(s.backend, func(g *Graph, in []*Node) *Node {
			var valid *Node
			if len(in) > np+1 {
				valid = in[np+1]
			}
			sum, count := s.net.forward(in[:np], in[np], valid, skip, nil, nil, true)
			return Stack([]*Node{sum, count}, 0)
		})
		if err != nil {
			return 0, err
		}
		defer exec.Finalize()
	} else {
		if err := s.buildMasked(); err != nil {
			return 0, err
		}
		exec = s.masked
		keep := make([]float32, d.NumLayers)
		for l := range keep {
			if len(skip) == 0 || !skip[l] {
				keep[l] = 1
			}
		}
		keepT := tensors.FromFlatDataAndDimensions(keep, d.NumLayers)
		defer keepT.FinalizeAll()
		extra = []any{keepT}
	}
	var lossSum, count float64
	for i := range s.calib.numBatches(s.batchSize) {
		b := s.calib.batch(i, s.batchSize)
		args := make([]any, 0, np+3)
		for _, p := range params {
			args = append(args, p)
		}
		args = append(args, b.ids)
		if b.valid != nil {
			args = append(args, b.valid)
		}
		args = append(args, extra...)
		out, err := exec.Exec(args...)
		releasePassBuffers(params)
		b.finalize()
		if err != nil {
			return 0, fmt.Errorf("importance: LM loss with layers %s removed: %w", skipString(skip), err)
		}
		v, err := tensors.CopyFlatData[float32](out[0])
		out[0].FinalizeAll()
		if err != nil {
			return 0, err
		}
		lossSum += float64(v[0])
		count += float64(v[1])
	}
	if count == 0 {
		return 0, fmt.Errorf("importance: no predicted positions in the calibration set")
	}
	return lossSum / count, nil
}

// buildMasked creates the keep-vector graph once: inputs are the params,
// ids, (valid,) keep [numLayers] float32.
func (s *lossScorer) buildMasked() error {
	if s.masked != nil {
		return nil
	}
	np := len(s.net.params())
	var err error
	s.masked, err = NewExec(s.backend, func(g *Graph, in []*Node) *Node {
		var valid *Node
		if len(in) > np+2 {
			valid = in[np+1]
		}
		sum, count := s.net.forward(in[:np], in[np], valid, nil, in[len(in)-1], nil, true)
		return Stack([]*Node{sum, count}, 0)
	})
	return err
}

// finalize releases the compiled graph.
func (s *lossScorer) finalize() {
	if s.masked != nil {
		s.masked.Finalize()
		s.masked = nil
	}
}

// skipString lists the removed layers, e.g. "[3 4]".
func skipString(skip []bool) string {
	var b strings.Builder
	b.WriteByte('[')
	first := true
	for l, s := range skip {
		if s {
			if !first {
				b.WriteByte(' ')
			}
			fmt.Fprint(&b, l)
			first = false
		}
	}
	b.WriteByte(']')
	return b.String()
}
