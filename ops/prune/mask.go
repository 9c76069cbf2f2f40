package prune

import (
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Masks emulate a plan on the unpruned model: same shapes, pruned units
// zeroed (llm.ForwardOptions' FFNMask, HeadMask, HiddenMask) and dropped
// layers skipped. llm.Forward with these options gives the logits of the
// pruned model (up to float32 summation order), without slicing any weight.
// An axis the plan does not cut has a nil mask, so it costs nothing.
type Masks struct {
	FFN        *tensors.Tensor // [numLayers, ffn] float32 0/1, or nil
	Heads      *tensors.Tensor // [numLayers, numHeads] float32 0/1, or nil
	Hidden     *tensors.Tensor // [hidden] float32 0/1, or nil
	SkipLayers []bool          // [numLayers] true = dropped, or nil
	Layers     *tensors.Tensor // [numLayers] float32 0 = dropped: the graph-value form of SkipLayers (Dense sets it instead of SkipLayers)
	Plan       Plan            // the resolved plan
	Kept       *Kept           // what the plan keeps (same as Apply's)
}

// MaskedView returns the masks that emulate plan p on a model with config
// cfg, choosing units from imp exactly as Apply does.
func MaskedView(cfg *llm.Config, p Plan, imp *results.Importance) (*Masks, error) {
	sel, err := selectUnits(cfg, p, imp)
	if err != nil {
		return nil, err
	}
	r := sel.plan
	m := &Masks{Plan: r, Kept: sel.kept()}
	n := cfg.NumLayers
	if r.Layers < n {
		m.SkipLayers = make([]bool, n)
		for l := range m.SkipLayers {
			m.SkipLayers[l] = true
		}
		for _, l := range sel.layers {
			m.SkipLayers[l] = false
		}
	}
	if r.FFN < cfg.FFN {
		m.FFN = perLayerMask(sel.ffn, cfg.FFN)
	}
	if r.HeadsPerGroup*cfg.NumKVHeads < cfg.NumHeads {
		m.Heads = perLayerMask(sel.heads, cfg.NumHeads)
	}
	if r.Hidden < cfg.Hidden {
		v := make([]float32, cfg.Hidden)
		for _, c := range sel.hidden {
			v[c] = 1
		}
		m.Hidden = tensors.FromFlatDataAndDimensions(v, cfg.Hidden)
	}
	return m, nil
}

// perLayerMask builds a [numLayers, size] 0/1 mask with ones at kept[l].
func perLayerMask(kept [][]int, size int) *tensors.Tensor {
	v := make([]float32, len(kept)*size)
	for l, idx := range kept {
		for _, j := range idx {
			v[l*size+j] = 1
		}
	}
	return tensors.FromFlatDataAndDimensions(v, len(kept), size)
}

// Options sets the masks and skipped layers on opts (a new ForwardOptions
// when opts is nil) as constants of graph g, and returns it. Use it inside the
// graph function that calls llm.Forward.
func (m *Masks) Options(g *graph.Graph, opts *llm.ForwardOptions) *llm.ForwardOptions {
	if opts == nil {
		opts = &llm.ForwardOptions{}
	}
	opts.SkipLayers = m.SkipLayers
	opts.LayerMask, opts.FFNMask, opts.HeadMask, opts.HiddenMask = nil, nil, nil, nil
	if m.Layers != nil {
		opts.LayerMask = graph.Const(g, m.Layers)
	}
	if m.FFN != nil {
		opts.FFNMask = graph.Const(g, m.FFN)
	}
	if m.Heads != nil {
		opts.HeadMask = graph.Const(g, m.Heads)
	}
	if m.Hidden != nil {
		opts.HiddenMask = graph.Const(g, m.Hidden)
	}
	return opts
}

// Dense returns a copy of the masks with every axis present (all ones where
// the plan cuts nothing) and dropped layers as the Layers mask
// (llm.ForwardOptions.LayerMask) instead of SkipLayers. With dense masks
// passed as inputs of a compiled graph (instead of constants), one executable
// serves every plan — what a notebook slider needs.
func (m *Masks) Dense(cfg *llm.Config) *Masks {
	d := *m
	ones := func(dims ...int) *tensors.Tensor {
		n := 1
		for _, x := range dims {
			n *= x
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	if d.FFN == nil {
		d.FFN = ones(cfg.NumLayers, cfg.FFN)
	}
	if d.Heads == nil {
		d.Heads = ones(cfg.NumLayers, cfg.NumHeads)
	}
	if d.Hidden == nil {
		d.Hidden = ones(cfg.Hidden)
	}
	d.Layers = ones(cfg.NumLayers)
	tensors.MustMutableFlatData(d.Layers, func(flat []float32) {
		for l, skip := range m.SkipLayers {
			if skip {
				flat[l] = 0
			}
		}
	})
	d.SkipLayers = nil
	return &d
}
