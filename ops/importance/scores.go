package importance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/gominitron/gominitron/results"
)

// Scores are the results of an importance pass: results.Importance (the
// fixture keys ffn, heads, hidden, bi, drop_one_lm_loss, lm_loss,
// block_lm_loss and the metadata) plus what results.Importance has no field
// for: the GQA per-group head rankings and the rank-stability summary.
//
// Save writes only the results.Importance part, so the file loads with
// results.LoadImportance everywhere (prune, eval --merge-into, plots, which
// reject unknown keys); SaveFull writes the extra keys too.
type Scores struct {
	results.Importance

	// NumKVHeads is the number of KV groups the head rankings refer to.
	NumKVHeads int `json:"num_kv_heads,omitempty"`
	// HeadRankByGroup[layer][group] lists the group's query heads, most
	// important first (see HeadRankingByGroup).
	HeadRankByGroup [][][]int `json:"head_rank_by_group,omitempty"`
	// StabilitySummary is the mean and min over part pairs of each axis'
	// Spearman correlation (present with RankStability).
	StabilitySummary map[string]AxisSummary `json:"rank_stability_summary,omitempty"`
}

// Axis returns the activation scores as an AxisScores view.
func (s *Scores) Axis() *AxisScores {
	return &AxisScores{FFN: s.FFN, Heads: s.Heads, Hidden: s.Hidden, BI: s.BI}
}

// Save validates the scores and writes the results.Importance part to path
// atomically (temp file + rename).
func (s *Scores) Save(path string) error { return s.Importance.Save(path) }

// SaveFull is Save plus the keys num_kv_heads, head_rank_by_group and
// rank_stability_summary (read back by Load, not by results.LoadImportance).
func (s *Scores) SaveFull(path string) error {
	if err := s.Importance.Validate(); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return results.SaveJSON(path, s)
}

// Load reads an importance JSON file written by Save or SaveFull (or a
// fixture's reference_importance.json). Without the extra keys,
// HeadRankByGroup is left empty (see HeadRankingByGroup).
func Load(path string) (*Scores, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	s := &Scores{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("importance: decoding %s: %w", path, err)
	}
	if err := s.Importance.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
