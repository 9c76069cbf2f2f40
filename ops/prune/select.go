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
	s, err := selectUnits(cfg, p, imp)
	if err != nil {
		return nil, err
	}
	return s.kept(), nil
}

// selectUnits resolves plan p for cfg (Plan.Resolve; the result is the
// selection's plan) and picks the kept indices.
func selectUnits(cfg *llm.Config, p Plan, imp *results.Importance) (*selection, error) {
	r, err := p.Resolve(cfg)
	if err != nil {
		return nil, err
	}
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
	ffn := perLayerAxis{name: "ffn", unit: "neurons", size: cfg.FFN}
	if r.FFN < cfg.FFN {
		ffn.what = fmt.Sprintf("ffn %d < %d", r.FFN, cfg.FFN)
		if err := need(ffn.what); err != nil {
			return nil, err
		}
		ffn.scores = imp.FFN
		ffn.pick = func(scores []float64) []int { return topK(scores, r.FFN) }
	}
	if s.ffn, err = ffn.kept(n); err != nil {
		return nil, err
	}

	// Query heads, ranked within each KV group.
	heads := perLayerAxis{name: "heads", unit: "query heads", size: cfg.NumHeads}
	if perGroup := cfg.NumHeads / cfg.NumKVHeads; r.HeadsPerGroup < perGroup {
		heads.what = fmt.Sprintf("heads-per-group %d < %d", r.HeadsPerGroup, perGroup)
		if err := need(heads.what); err != nil {
			return nil, err
		}
		heads.scores = imp.Heads
		heads.pick = func(scores []float64) []int { return topHeadsPerGroup(scores, cfg.NumKVHeads, r.HeadsPerGroup) }
	}
	if s.heads, err = heads.kept(n); err != nil {
		return nil, err
	}
	return s, nil
}

// perLayerAxis is a width axis scored per layer (FFN neurons, query heads).
type perLayerAxis struct {
	name, unit string // in the scores file ("ffn") and in messages ("neurons")
	size       int    // units per layer in the source model
	// When the plan cuts the axis: what says how ("ffn 96 < 192"), scores
	// are the importance rows ([layer][unit]) and pick chooses a layer's
	// kept units from its row. pick nil: the axis is kept whole.
	what   string
	scores [][]float64
	pick   func(row []float64) []int
}

// kept returns each of the n layers' kept units: all a.size of them when
// the axis is not cut, else a.pick of the layer's row, after checking that
// there is one row of a.size finite scores per layer.
func (a perLayerAxis) kept(n int) ([][]int, error) {
	out := make([][]int, n)
	if a.pick == nil {
		for l := range n {
			out[l] = iota(a.size)
		}
		return out, nil
	}
	if len(a.scores) != n {
		return nil, fmt.Errorf("%s: scores %s has %d layers, model has %d (scores of another model?)", a.what, a.name, len(a.scores), n)
	}
	for l, row := range a.scores {
		if err := checkScores(fmt.Sprintf("%s[%d]", a.name, l), row, a.size, a.unit); err != nil {
			return nil, fmt.Errorf("%s: %w", a.what, err)
		}
		out[l] = a.pick(row)
	}
	return out, nil
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
