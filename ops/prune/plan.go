package prune

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// Layer scores a Plan can rank layers by (Plan.LayerScore). Higher = more
// important for both.
const (
	LayerScoreDropOneLMLoss = "drop_one_lm_loss" // LM loss with the layer removed (default)
	LayerScoreBI            = "bi"               // Block Influence, mean 1 − cos(in, out)
)

// Block scores a Plan can choose the dropped block by (Plan.BlockScore).
const (
	BlockScoreLMLoss = "block_lm_loss" // lowest LM loss with the block removed (default)
	BlockScoreOther  = "block_scores"  // the importance file's block_scores sweep (e.g. downstream accuracy), best by its HigherIsBetter
)

// Plan is a pruning target. A zero field keeps that axis unchanged; the zero
// Plan is a no-op. At most one of Layers, DropLayers and DropBlock may be set.
type Plan struct {
	Hidden        int `json:"hidden,omitempty"`          // target hidden_size (channels kept globally)
	FFN           int `json:"ffn,omitempty"`             // target intermediate_size (per layer, same for all)
	HeadsPerGroup int `json:"heads_per_group,omitempty"` // query heads kept per KV group; KV groups are all kept

	Layers     int    `json:"layers,omitempty"`      // keep the Layers most important layers by LayerScore
	LayerScore string `json:"layer_score,omitempty"` // LayerScoreDropOneLMLoss (default) or LayerScoreBI
	DropLayers []int  `json:"drop_layers,omitempty"` // explicit 0-based layers to remove
	DropBlock  int    `json:"drop_block,omitempty"`  // remove the best contiguous block of this many layers
	BlockScore string `json:"block_score,omitempty"` // BlockScoreLMLoss (default) or BlockScoreOther

	Round int `json:"round,omitempty"` // round the Hidden and FFN targets to a multiple of Round (nearest, ≤ current)
}

// Resolve checks the plan against cfg (shape only; no scores needed) and
// returns it with every target explicit: Hidden, FFN and HeadsPerGroup set
// (current size when not pruned, rounded when Round is set), Layers set to the
// resulting number of layers, LayerScore and BlockScore defaulted. Errors name
// the offending field as the CLI flag and give the valid range.
func (p Plan) Resolve(cfg *llm.Config) (Plan, error) {
	if cfg == nil {
		return p, fmt.Errorf("prune: nil config")
	}
	if cfg.NumKVHeads <= 0 || cfg.NumHeads%cfg.NumKVHeads != 0 {
		return p, fmt.Errorf("prune: model has %d query heads and %d KV heads (need numHeads a multiple of numKVHeads)", cfg.NumHeads, cfg.NumKVHeads)
	}
	r := p
	r.DropLayers = slices.Clone(p.DropLayers)
	if p.Round < 0 {
		return p, fmt.Errorf("round %d < 0 (valid 0 = no rounding, or a positive multiple)", p.Round)
	}
	var err error
	if r.Hidden, err = resolveWidth("hidden", p.Hidden, cfg.Hidden, p.Round); err != nil {
		return p, err
	}
	if r.FFN, err = resolveWidth("ffn", p.FFN, cfg.FFN, p.Round); err != nil {
		return p, err
	}
	perGroup := cfg.NumHeads / cfg.NumKVHeads
	switch {
	case p.HeadsPerGroup == 0:
		r.HeadsPerGroup = perGroup
	case p.HeadsPerGroup < 0:
		return p, fmt.Errorf("heads-per-group %d < 1 (valid 1..%d)", p.HeadsPerGroup, perGroup)
	case p.HeadsPerGroup > perGroup:
		return p, fmt.Errorf("heads-per-group %d > current %d (valid 1..%d)", p.HeadsPerGroup, perGroup, perGroup)
	}

	n := cfg.NumLayers
	exclusive := func() error {
		return fmt.Errorf("layers, drop-layers and drop-block are exclusive: set one (got layers=%d drop-layers=%v drop-block=%d)", p.Layers, p.DropLayers, p.DropBlock)
	}
	if len(p.DropLayers) > 0 && p.DropBlock != 0 {
		return p, exclusive()
	}
	if r.LayerScore, err = resolveChoice("layer-score", p.LayerScore, LayerScoreDropOneLMLoss, LayerScoreBI); err != nil {
		return p, err
	}
	if r.BlockScore, err = resolveChoice("block-score", p.BlockScore, BlockScoreLMLoss, BlockScoreOther); err != nil {
		return p, err
	}
	switch {
	case len(p.DropLayers) > 0:
		seen := make(map[int]bool, len(p.DropLayers))
		for _, l := range p.DropLayers {
			if l < 0 || l >= n {
				return p, fmt.Errorf("drop-layers %d out of range 0..%d", l, n-1)
			}
			if seen[l] {
				return p, fmt.Errorf("drop-layers lists layer %d twice", l)
			}
			seen[l] = true
		}
		if len(seen) == n {
			return p, fmt.Errorf("drop-layers removes all %d layers (keep at least 1)", n)
		}
		slices.Sort(r.DropLayers)
		r.Layers = n - len(seen)
	case p.DropBlock != 0:
		if p.DropBlock < 1 || p.DropBlock > n-1 {
			return p, fmt.Errorf("drop-block %d out of range 1..%d", p.DropBlock, n-1)
		}
		r.Layers = n - p.DropBlock
	case p.Layers != 0:
		if p.Layers < 1 {
			return p, fmt.Errorf("layers %d < 1 (valid 1..%d)", p.Layers, n)
		}
		if p.Layers > n {
			return p, fmt.Errorf("layers %d > current %d (valid 1..%d)", p.Layers, n, n)
		}
	default:
		r.Layers = n
	}
	// A resolved plan lists both the drop and the resulting layer count; any
	// other combination is a conflict.
	if p.Layers != 0 && p.Layers != r.Layers {
		return p, exclusive()
	}
	return r, nil
}

// resolveChoice returns v, or valid[0] (the default) when v is empty; a
// value not in valid is an error naming the field and the valid values.
func resolveChoice(field, v string, valid ...string) (string, error) {
	switch {
	case v == "":
		return valid[0], nil
	case slices.Contains(valid, v):
		return v, nil
	}
	return "", fmt.Errorf("%s %q unknown (valid %s)", field, v, strings.Join(valid, ", "))
}

// resolveWidth validates a hidden/ffn target and applies rounding.
func resolveWidth(name string, target, current, round int) (int, error) {
	if target == 0 {
		return current, nil
	}
	if target < 0 {
		return 0, fmt.Errorf("%s %d < 1 (valid 1..%d)", name, target, current)
	}
	if target > current {
		return 0, fmt.Errorf("%s %d > current %d (valid 1..%d)", name, target, current, current)
	}
	if round <= 1 {
		return target, nil
	}
	if round > current {
		return 0, fmt.Errorf("round %d > current %s %d (no multiple of %d fits)", round, name, current, round)
	}
	r := int(math.Round(float64(target)/float64(round))) * round
	r = max(r, round)
	r = min(r, current/round*round)
	return r, nil
}

// TargetConfig returns the config the plan produces from cfg (a new value;
// cfg is not modified): sizes, num_hidden_layers and an explicit head_dim.
// Per-layer config lists in Extra (e.g. qwen2's layer_types) are truncated to
// the new depth; Apply replaces them with the kept layers' entries.
func (p Plan) TargetConfig(cfg *llm.Config) (*llm.Config, error) {
	r, err := p.Resolve(cfg)
	if err != nil {
		return nil, err
	}
	return targetConfig(cfg, r, nil), nil
}

// perLayerExtra are config.json keys holding one entry per layer.
var perLayerExtra = map[string]bool{"layer_types": true}

// targetConfig builds the new config of a resolved plan. keptLayers (original
// indices) selects per-layer Extra entries; nil keeps the first r.Layers.
func targetConfig(cfg *llm.Config, r Plan, keptLayers []int) *llm.Config {
	c := *cfg
	if c.HeadDim == 0 {
		c.HeadDim = cfg.Hidden / cfg.NumHeads
	}
	c.Hidden = r.Hidden
	c.FFN = r.FFN
	c.NumHeads = cfg.NumKVHeads * r.HeadsPerGroup
	c.NumLayers = r.Layers
	c.Architectures = slices.Clone(cfg.Architectures)
	c.EOSTokenIDs = slices.Clone(cfg.EOSTokenIDs)
	if cfg.BOSTokenID != nil {
		v := *cfg.BOSTokenID
		c.BOSTokenID = &v
	}
	if cfg.PadTokenID != nil {
		v := *cfg.PadTokenID
		c.PadTokenID = &v
	}
	if cfg.Extra != nil {
		c.Extra = make(map[string]any, len(cfg.Extra))
		for k, v := range cfg.Extra {
			if list, ok := v.([]any); ok && perLayerExtra[k] && len(list) == cfg.NumLayers && r.Layers != cfg.NumLayers {
				// A per-layer list: keep the kept layers' entries.
				kept := make([]any, 0, r.Layers)
				if keptLayers == nil {
					kept = append(kept, list[:r.Layers]...)
				} else {
					for _, l := range keptLayers {
						kept = append(kept, list[l])
					}
				}
				v = kept
			}
			c.Extra[k] = v
		}
	}
	return &c
}

// Validate checks the plan against cfg and the importance scores it will be
// applied with: the shape checks of Resolve, plus that the scores exist for
// every axis the plan cuts, have the model's dimensions and are finite.
func (p Plan) Validate(cfg *llm.Config, imp *results.Importance) error {
	_, err := selectUnits(cfg, p, imp)
	return err
}

// ParseLayerList parses a comma-separated list of 0-based layer indices
// ("3,4,5"), as the --drop-layers flag takes it. Ranges are checked by
// Plan.Resolve.
func ParseLayerList(s string) ([]int, error) {
	var layers []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		l, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("drop-layers %q: %q is not a layer index", s, f)
		}
		layers = append(layers, l)
	}
	return layers, nil
}
