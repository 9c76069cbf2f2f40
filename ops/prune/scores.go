package prune

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gominitron/gominitron/results"
)

// LoadScores reads an importance JSON file for pruning: the results.Importance
// keys (ffn, heads, hidden, bi, drop_one_lm_loss, lm_loss, block_lm_loss, …)
// are decoded and validated; extra keys (e.g. the head rankings and
// stability summary that `gominitron importance` may add) are ignored, so
// every form of the scores file is accepted.
func LoadScores(path string) (*results.Importance, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prune: scores: %w", err)
	}
	imp := &results.Importance{}
	if err := json.Unmarshal(data, imp); err != nil {
		return nil, fmt.Errorf("prune: scores %s: %w", path, err)
	}
	if err := imp.Validate(); err != nil {
		return nil, fmt.Errorf("prune: scores %s: %w", path, err)
	}
	return imp, nil
}
