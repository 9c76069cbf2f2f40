package prune

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// Kept lists what a plan keeps, in source-model indices: the lineage of a
// pruned model (written to pruning.json). Every list is ascending, and every
// axis is listed even when it was not cut.
type Kept struct {
	Layers []int   `json:"layers"` // [newNumLayers] source layer of each new layer
	Hidden []int   `json:"hidden"` // [newHidden] kept hidden channels (global)
	FFN    [][]int `json:"ffn"`    // [newNumLayers][newFFN] kept neurons of source layer Layers[i]
	Heads  [][]int `json:"heads"`  // [newNumLayers][newNumHeads] kept query heads of source layer Layers[i]
}

// DroppedLayers lists the source layers 0..n-1 that k does not keep (n: the
// source model's number of layers), ascending; nil when it keeps them all.
func (k *Kept) DroppedLayers(n int) []int {
	in := make([]bool, n)
	for _, l := range k.Layers {
		in[l] = true
	}
	var d []int
	for l := range n {
		if !in[l] {
			d = append(d, l)
		}
	}
	return d
}

// selection is the kept indices of a resolved plan in source numbering:
// ffn and heads are indexed by source layer (all layers, dropped ones too).
type selection struct {
	plan   Plan // resolved
	layers []int
	hidden []int
	ffn    [][]int // [numLayers][newFFN]
	heads  [][]int // [numLayers][newNumHeads]
}

// kept returns the lineage form (per new layer) of the selection.
func (s *selection) kept() *Kept {
	k := &Kept{Layers: slices.Clone(s.layers), Hidden: slices.Clone(s.hidden)}
	for _, l := range s.layers {
		k.FFN = append(k.FFN, slices.Clone(s.ffn[l]))
		k.Heads = append(k.Heads, slices.Clone(s.heads[l]))
	}
	return k
}

// Select returns the indices a plan keeps for cfg with the given scores,
// without touching any weight (the same choice Apply and MaskedView make).
func Select(cfg *llm.Config, p Plan, imp *results.Importance) (*Kept, error) {
	r, err := p.Resolve(cfg)
	if err != nil {
		return nil, err
	}
	s, err := selectUnits(cfg, r, imp)
	if err != nil {
		return nil, err
	}
	return s.kept(), nil
}

// selectUnits picks the kept indices of a resolved plan r.
func selectUnits(cfg *llm.Config, r Plan, imp *results.Importance) (*selection, error) {
	n := cfg.NumLayers
	s := &selection{plan: r}
	need := func(what string) error {
		if imp == nil {
			return fmt.Errorf("%s needs importance scores (none given)", what)
		}
		return nil
	}

	// Depth.
	switch {
	case len(r.DropLayers) > 0:
		for l := range n {
			if !slices.Contains(r.DropLayers, l) {
				s.layers = append(s.layers, l)
			}
		}
	case r.DropBlock > 0:
		start, err := bestBlock(n, r, imp)
		if err != nil {
			return nil, err
		}
		for l := range n {
			if l < start || l >= start+r.DropBlock {
				s.layers = append(s.layers, l)
			}
		}
	case r.Layers < n:
		what := fmt.Sprintf("layers %d < %d", r.Layers, n)
		if err := need(what); err != nil {
			return nil, err
		}
		name, scores := r.LayerScore, imp.DropOneLMLoss
		if name == LayerScoreBI {
			scores = imp.BI
		}
		if err := checkScores(name, scores, n, "layers"); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		s.layers = topK(scores, r.Layers)
	default:
		s.layers = iota(n)
	}

	// Hidden channels (global).
	if r.Hidden < cfg.Hidden {
		what := fmt.Sprintf("hidden %d < %d", r.Hidden, cfg.Hidden)
		if err := need(what); err != nil {
			return nil, err
		}
		if err := checkScores("hidden", imp.Hidden, cfg.Hidden, "hidden channels"); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		s.hidden = topK(imp.Hidden, r.Hidden)
	} else {
		s.hidden = iota(cfg.Hidden)
	}

	// FFN neurons, per layer.
	s.ffn = make([][]int, n)
	if r.FFN < cfg.FFN {
		what := fmt.Sprintf("ffn %d < %d", r.FFN, cfg.FFN)
		if err := need(what); err != nil {
			return nil, err
		}
		if len(imp.FFN) != n {
			return nil, fmt.Errorf("%s: scores ffn has %d layers, model has %d (scores of another model?)", what, len(imp.FFN), n)
		}
		for l := range n {
			if err := checkScores(fmt.Sprintf("ffn[%d]", l), imp.FFN[l], cfg.FFN, "neurons"); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			s.ffn[l] = topK(imp.FFN[l], r.FFN)
		}
	} else {
		for l := range n {
			s.ffn[l] = iota(cfg.FFN)
		}
	}

	// Query heads, ranked within each KV group.
	perGroup := cfg.NumHeads / cfg.NumKVHeads
	s.heads = make([][]int, n)
	if r.HeadsPerGroup < perGroup {
		what := fmt.Sprintf("heads-per-group %d < %d", r.HeadsPerGroup, perGroup)
		if err := need(what); err != nil {
			return nil, err
		}
		if len(imp.Heads) != n {
			return nil, fmt.Errorf("%s: scores heads has %d layers, model has %d (scores of another model?)", what, len(imp.Heads), n)
		}
		for l := range n {
			if err := checkScores(fmt.Sprintf("heads[%d]", l), imp.Heads[l], cfg.NumHeads, "query heads"); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			s.heads[l] = topHeadsPerGroup(imp.Heads[l], cfg.NumKVHeads, r.HeadsPerGroup)
		}
	} else {
		for l := range n {
			s.heads[l] = iota(cfg.NumHeads)
		}
	}
	return s, nil
}

// bestBlock returns the start of the contiguous block of r.DropBlock layers to
// remove: lowest block_lm_loss, or best block_scores value.
func bestBlock(n int, r Plan, imp *results.Importance) (int, error) {
	k := r.DropBlock
	if r.BlockScore == BlockScoreOther {
		if imp == nil || imp.BlockScores == nil {
			return 0, fmt.Errorf("drop-block %d needs block_scores in scores (run importance with a block task)", k)
		}
		bs := imp.BlockScores
		if bs.BlockSize != k {
			return 0, fmt.Errorf("drop-block %d but scores have block_scores for blocks of %d layers (rerun importance with importance.Options.BlockSize %d)", k, bs.BlockSize, k)
		}
		if err := checkScores("block_scores.values", bs.Values, n-k+1, "block starts"); err != nil {
			return 0, err
		}
		if bs.HigherIsBetter {
			return topK(bs.Values, 1)[0], nil
		}
		return llm.Argmin(bs.Values), nil
	}
	if imp == nil || len(imp.BlockLMLoss) == 0 {
		return 0, fmt.Errorf("drop-block %d needs block_lm_loss in scores (run importance with importance.Options.BlockSize %d)", k, k)
	}
	size := imp.BlockSize
	if size == 0 { // not recorded: infer from the number of start positions
		size = n - len(imp.BlockLMLoss) + 1
	}
	if size != k {
		return 0, fmt.Errorf("drop-block %d but scores have block_lm_loss for blocks of %d layers (rerun importance with importance.Options.BlockSize %d)", k, size, k)
	}
	if err := checkScores("block_lm_loss", imp.BlockLMLoss, n-k+1, "block starts"); err != nil {
		return 0, err
	}
	return llm.Argmin(imp.BlockLMLoss), nil
}

// checkScores checks that a score vector has want finite entries.
func checkScores(name string, v []float64, want int, unit string) error {
	if len(v) == 0 {
		return fmt.Errorf("scores have no %s", name)
	}
	if len(v) != want {
		return fmt.Errorf("scores %s has %d entries, model has %d %s (scores of another model?)", name, len(v), want, unit)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("scores %s[%d] is %v", name, i, x)
		}
	}
	return nil
}

// topK returns the indices of the k largest scores in ascending index order;
// ties go to the lower index.
func topK(scores []float64, k int) []int {
	idx := iota(len(scores))
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	idx = idx[:k]
	slices.Sort(idx)
	return idx
}

// topHeadsPerGroup keeps the perGroup best query heads inside each KV group
// (HF's repeat_kv: query head h reads KV head h / (numHeads/numKVHeads)),
// returned in ascending order.
func topHeadsPerGroup(scores []float64, numKVHeads, perGroup int) []int {
	groupSize := len(scores) / numKVHeads
	var kept []int
	for g := range numKVHeads {
		for _, h := range topK(scores[g*groupSize:(g+1)*groupSize], perGroup) {
			kept = append(kept, g*groupSize+h)
		}
	}
	return kept
}

// iota returns 0..n-1.
func iota(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
