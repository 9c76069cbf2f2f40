package prune

import (
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
	"github.com/gomlx/compute/dtypes"
)

// Estimate is what a plan costs, computed from the target config alone (no
// weights touched, no scores needed).
type Estimate struct {
	Config               *llm.Config    `json:"-"`    // the target config
	From                 results.Shape  `json:"from"` // source shape (with total params)
	To                   results.Shape  `json:"to"`   // target shape (with total params)
	Params               llm.ParamCount `json:"-"`    // target parameter count
	WeightBytes          int64          `json:"weight_bytes"`
	KVCacheBytesPerToken int64          `json:"kv_cache_bytes_per_token"`
}

// Estimate returns the parameters, weight bytes and KV-cache bytes per token
// (both in dtype) of the model that plan p would produce from cfg. It takes
// microseconds: call it on every slider move.
func (p Plan) Estimate(cfg *llm.Config, dtype dtypes.DType) (*Estimate, error) {
	r, err := p.Resolve(cfg)
	if err != nil {
		return nil, err
	}
	t := targetConfig(cfg, r, nil)
	e := &Estimate{
		Config:               t,
		From:                 ShapeOf(cfg),
		To:                   ShapeOf(t),
		Params:               t.Params(),
		WeightBytes:          t.WeightBytes(dtype),
		KVCacheBytesPerToken: t.KVCacheBytesPerToken(dtype),
	}
	return e, nil
}

// ShapeOf returns the architecture of cfg as results reports it, with the
// total parameter count.
func ShapeOf(cfg *llm.Config) results.Shape {
	return results.Shape{
		NumLayers: cfg.NumLayers, Hidden: cfg.Hidden, FFN: cfg.FFN,
		NumHeads: cfg.NumHeads, NumKVHeads: cfg.NumKVHeads, HeadDim: cfg.HeadDim,
		Params: cfg.Params().Total,
	}
}
