package prune

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gomlx/gomlx/core/tensors"
)

const layerPrefix = "model.layers."

// sliceWeights cuts every tensor of a source model to the selection,
// renumbering layers. Unknown tensor names are an error (never silently kept
// at the wrong size).
func sliceWeights(src *llm.Config, weights map[string]*tensors.Tensor, sel *selection) (map[string]*tensors.Tensor, error) {
	out := make(map[string]*tensors.Tensor, len(weights))
	for name, t := range weights {
		cut, kept, err := sel.cutOf(src, name)
		if err != nil {
			return nil, err
		}
		if !kept {
			continue // dropped layer
		}
		nt, err := sliceTensor(t, cut.rows, cut.cols)
		if err != nil {
			return nil, fmt.Errorf("prune: tensor %s: %w", name, err)
		}
		out[cut.name] = nt
	}
	return out, nil
}

// tensorCut is what the selection keeps of one source tensor: its name in
// the pruned model and the rows and columns kept (nil: the whole axis).
type tensorCut struct {
	name       string
	rows, cols []int
}

// cutOf returns the cut of the source tensor name (of a model with config
// src); kept is false for a tensor of a dropped layer.
func (sel *selection) cutOf(src *llm.Config, name string) (cut tensorCut, kept bool, err error) {
	headDim := src.HeadDim
	if headDim == 0 {
		headDim = src.Hidden / src.NumHeads
	}
	hidden := sel.hidden
	if len(hidden) == src.Hidden {
		hidden = nil // all kept: plain copy on that axis
	}
	cut.name = name
	rest, ok := strings.CutPrefix(name, layerPrefix)
	if !ok {
		switch name {
		case "model.embed_tokens.weight", "lm_head.weight":
			cut.cols = hidden
		case "model.norm.weight":
			cut.rows = hidden
		default:
			return cut, false, fmt.Errorf("prune: tensor %s: unknown parameter, cannot prune it", name)
		}
		return cut, true, nil
	}
	numStr, param, ok := strings.Cut(rest, ".")
	l, err := strconv.Atoi(numStr)
	if !ok || err != nil || l < 0 || l >= src.NumLayers {
		return cut, false, fmt.Errorf("prune: tensor %s: cannot parse its layer index (model has %d layers)", name, src.NumLayers)
	}
	i := slices.Index(sel.layers, l)
	if i < 0 {
		return cut, false, nil // dropped layer
	}
	cut.name = layerPrefix + strconv.Itoa(i) + "." + param
	ffn := allOrNil(sel.ffn[l], src.FFN)
	var qRows []int
	if h := allOrNil(sel.heads[l], src.NumHeads); h != nil {
		qRows = headRows(h, headDim)
	}
	switch param {
	case "input_layernorm.weight", "post_attention_layernorm.weight":
		cut.rows = hidden
	case "self_attn.q_proj.weight":
		cut.rows, cut.cols = qRows, hidden
	case "self_attn.q_proj.bias":
		cut.rows = qRows
	case "self_attn.k_proj.weight", "self_attn.v_proj.weight":
		cut.cols = hidden
	case "self_attn.k_proj.bias", "self_attn.v_proj.bias":
	case "self_attn.o_proj.weight":
		cut.rows, cut.cols = hidden, qRows
	case "self_attn.o_proj.bias":
		cut.rows = hidden
	case "mlp.gate_proj.weight", "mlp.up_proj.weight":
		cut.rows, cut.cols = ffn, hidden
	case "mlp.gate_proj.bias", "mlp.up_proj.bias":
		cut.rows = ffn
	case "mlp.down_proj.weight":
		cut.rows, cut.cols = hidden, ffn
	case "mlp.down_proj.bias":
		cut.rows = hidden
	default:
		return cut, false, fmt.Errorf("prune: tensor %s: unknown layer parameter %q, cannot prune it", name, param)
	}
	return cut, true, nil
}

// allOrNil returns nil when idx keeps all of size entries (no slicing).
func allOrNil(idx []int, size int) []int {
	if len(idx) == size {
		return nil
	}
	return idx
}
