package prune

import (
	"fmt"
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
	headDim := src.HeadDim
	if headDim == 0 {
		headDim = src.Hidden / src.NumHeads
	}
	newIndex := make(map[int]int, len(sel.layers))
	for i, l := range sel.layers {
		newIndex[l] = i
	}
	hidden := sel.hidden
	if len(hidden) == src.Hidden {
		hidden = nil // all kept: plain copy on that axis
	}
	out := make(map[string]*tensors.Tensor, len(weights))
	for name, t := range weights {
		newName := name
		var rows, cols []int
		if rest, ok := strings.CutPrefix(name, layerPrefix); ok {
			numStr, param, ok := strings.Cut(rest, ".")
			l, err := strconv.Atoi(numStr)
			if !ok || err != nil || l < 0 || l >= src.NumLayers {
				return nil, fmt.Errorf("prune: tensor %s: cannot parse its layer index (model has %d layers)", name, src.NumLayers)
			}
			i, kept := newIndex[l]
			if !kept {
				continue // dropped layer
			}
			newName = layerPrefix + strconv.Itoa(i) + "." + param
			ffn := allOrNil(sel.ffn[l], src.FFN)
			var qRows []int
			if h := allOrNil(sel.heads[l], src.NumHeads); h != nil {
				qRows = headRows(h, headDim)
			}
			switch param {
			case "input_layernorm.weight", "post_attention_layernorm.weight":
				rows = hidden
			case "self_attn.q_proj.weight":
				rows, cols = qRows, hidden
			case "self_attn.q_proj.bias":
				rows = qRows
			case "self_attn.k_proj.weight", "self_attn.v_proj.weight":
				cols = hidden
			case "self_attn.k_proj.bias", "self_attn.v_proj.bias":
			case "self_attn.o_proj.weight":
				rows, cols = hidden, qRows
			case "self_attn.o_proj.bias":
				rows = hidden
			case "mlp.gate_proj.weight", "mlp.up_proj.weight":
				rows, cols = ffn, hidden
			case "mlp.gate_proj.bias", "mlp.up_proj.bias":
				rows = ffn
			case "mlp.down_proj.weight":
				rows, cols = hidden, ffn
			case "mlp.down_proj.bias":
				rows = hidden
			default:
				return nil, fmt.Errorf("prune: tensor %s: unknown layer parameter %q, cannot prune it", name, param)
			}
		} else {
			switch name {
			case "model.embed_tokens.weight", "lm_head.weight":
				cols = hidden
			case "model.norm.weight":
				rows = hidden
			default:
				return nil, fmt.Errorf("prune: tensor %s: unknown parameter, cannot prune it", name)
			}
		}
		nt, err := sliceTensor(t, rows, cols)
		if err != nil {
			return nil, fmt.Errorf("prune: tensor %s: %w", name, err)
		}
		out[newName] = nt
	}
	return out, nil
}

// allOrNil returns nil when idx keeps all of size entries (no slicing).
func allOrNil(idx []int, size int) []int {
	if len(idx) == size {
		return nil
	}
	return idx
}
