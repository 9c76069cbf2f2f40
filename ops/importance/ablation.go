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
// set with some layers removed. One graph is compiled per skip pattern
// (ForwardOptions.SkipLayers is static) and released after use.
type lossScorer struct {
	backend   compute.Backend
	net       network
	calib     *Calibration
	batchSize int
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
	build := func(in []*Node, valid *Node) *Node {
		logits := s.net.forward(in[:np], in[np], valid, skip, nil, true)
		sum, count := nextTokenLossSum(logits, in[np], valid)
		return Stack([]*Node{sum, count}, 0)
	}
	plain, err := NewExec(s.backend, func(g *Graph, in []*Node) *Node { return build(in, nil) })
	if err != nil {
		return 0, err
	}
	defer plain.Finalize()
	masked, err := NewExec(s.backend, func(g *Graph, in []*Node) *Node { return build(in, in[np+1]) })
	if err != nil {
		return 0, err
	}
	defer masked.Finalize()
	var lossSum, count float64
	for i := range s.calib.numBatches(s.batchSize) {
		b := s.calib.batch(i, s.batchSize)
		args := make([]any, 0, np+2)
		for _, p := range params {
			args = append(args, p)
		}
		args = append(args, b.ids)
		exec := plain
		if b.valid != nil {
			args = append(args, b.valid)
			exec = masked
		}
		out, err := exec.Exec(args...)
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
