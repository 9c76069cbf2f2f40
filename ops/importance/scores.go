package importance

import "github.com/gominitron/gominitron/results"

// Scores are the results of an importance pass: results.Importance (the
// fixture keys ffn, heads, hidden, bi, drop_one_lm_loss, lm_loss,
// block_lm_loss, the metadata, the GQA per-group head rankings and the
// rank-stability summary). Save them with the embedded Importance.Save and
// read them back with results.LoadImportance.
type Scores struct {
	results.Importance
}

// Axis returns the activation scores as an AxisScores view.
func (s *Scores) Axis() *AxisScores {
	return &AxisScores{FFN: s.FFN, Heads: s.Heads, Hidden: s.Hidden, BI: s.BI}
}
