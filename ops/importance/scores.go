package importance

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/results"
)

// Scores are the results of an importance pass: results.Importance (the
// fixture keys ffn, heads, hidden, bi, drop_one_lm_loss, lm_loss,
// block_lm_loss, the metadata, the GQA per-group head rankings and the
// rank-stability summary).
type Scores struct {
	results.Importance
}

// Axis returns the activation scores as an AxisScores view.
func (s *Scores) Axis() *AxisScores {
	return &AxisScores{FFN: s.FFN, Heads: s.Heads, Hidden: s.Hidden, BI: s.BI}
}

// Save validates the scores and writes the results.Importance part to path
// atomically (temp file + rename).
func (s *Scores) Save(path string) error { return s.Importance.Save(path) }

// SaveFull is Save; kept for callers of the time when the head rankings and
// the stability summary were not part of results.Importance.
func (s *Scores) SaveFull(path string) error { return s.Save(path) }

// Load reads an importance JSON file written by Save or SaveFull (or a
// fixture's reference_importance.json). Without the extra keys,
// HeadRankByGroup is left empty (see HeadRankingByGroup).
func Load(path string) (*Scores, error) {
	data, err := fileio.ReadRegular(path, fileio.MaxSideFileBytes)
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
