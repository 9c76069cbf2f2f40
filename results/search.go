package results

import "fmt"

// Shape is a model's architecture as pruning sees it.
type Shape struct {
	NumLayers  int   `json:"num_layers"`
	Hidden     int   `json:"hidden"`
	FFN        int   `json:"ffn"`
	NumHeads   int   `json:"num_heads"`
	NumKVHeads int   `json:"num_kv_heads"`
	HeadDim    int   `json:"head_dim,omitempty"`
	Params     int64 `json:"params,omitempty"` // total parameters
}

// String returns a compact description such as "L8 h256 f704 q8/kv4".
func (s Shape) String() string {
	return fmt.Sprintf("L%d h%d f%d q%d/kv%d", s.NumLayers, s.Hidden, s.FFN, s.NumHeads, s.NumKVHeads)
}

// StepLoss is a validation loss at a step.
type StepLoss struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"`
}

// Candidate is one shape of an architecture search with its short
// distillation curve.
type Candidate struct {
	Name   string     `json:"name"`
	Shape  Shape      `json:"shape"`
	Params int64      `json:"params"`
	Losses []StepLoss `json:"losses"` // validation loss per evaluated step, in step order
}

// FinalLoss returns the last loss of the candidate's curve and false when it
// has none.
func (c Candidate) FinalLoss() (float64, bool) {
	if len(c.Losses) == 0 {
		return 0, false
	}
	return c.Losses[len(c.Losses)-1].Loss, true
}

// PlanSummary describes a prune plan: what is kept, and what it costs.
type PlanSummary struct {
	Name             string   `json:"name,omitempty"`
	From             Shape    `json:"from"`
	To               Shape    `json:"to"`
	DroppedLayers    []int    `json:"dropped_layers,omitempty"` // indices in the source model
	HeadsPerGroup    int      `json:"heads_per_group,omitempty"`
	WeightBytes      int64    `json:"weight_bytes,omitempty"`
	KVBytesPerToken  int64    `json:"kv_bytes_per_token,omitempty"`
	LMLossAfterPrune *float64 `json:"lm_loss_after_prune,omitempty"`
	KLAfterPrune     *float64 `json:"kl_after_prune,omitempty"`
}
