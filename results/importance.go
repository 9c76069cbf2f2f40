package results

import (
	"fmt"
	"math"
	"time"
)

// Importance holds the scores of one importance pass. The JSON keys of the
// score fields are those of the fixtures' reference_importance.json
// (testdata/hf/*/reference_importance.json): ffn, heads, hidden, bi,
// drop_one_lm_loss, lm_loss. Everything else is optional.
type Importance struct {
	FFN           [][]float64 `json:"ffn"`              // [numLayers][ffn] score of each MLP neuron (input of down_proj)
	Heads         [][]float64 `json:"heads"`            // [numLayers][numHeads] score of each query head (input of o_proj)
	Hidden        []float64   `json:"hidden"`           // [hidden] score of each residual channel (RMSNorm outputs, summed over layers)
	BI            []float64   `json:"bi"`               // [numLayers] Block Influence: mean 1 − cos(residual in, residual out)
	DropOneLMLoss []float64   `json:"drop_one_lm_loss"` // [numLayers] LM loss of the model with layer l removed
	LMLoss        float64     `json:"lm_loss"`          // LM loss of the full model on the same tokens

	// Contiguous-block ablation (optional): BlockLMLoss[s] is the LM loss with
	// layers s … s+BlockSize−1 removed.
	BlockSize   int          `json:"block_size,omitempty"`
	BlockLMLoss []float64    `json:"block_lm_loss,omitempty"` // [numLayers−BlockSize+1]
	BlockScores *BlockScores `json:"block_scores,omitempty"`  // same sweep scored by another function (e.g. a downstream task)

	// Metadata (optional).
	Model       string    `json:"model,omitempty"`     // model id or folder path
	BatchAgg    string    `json:"batch_agg,omitempty"` // l2 | mean | var
	SeqAgg      string    `json:"seq_agg,omitempty"`   // mean | l2 | var
	Samples     int       `json:"samples,omitempty"`   // calibration sequences
	Tokens      int64     `json:"tokens,omitempty"`    // calibration tokens (padding excluded)
	SeqLen      int       `json:"seq_len,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	DurationSec float64   `json:"duration_s,omitempty"`
	Backend     string    `json:"backend,omitempty"`

	RankStability *RankStability `json:"rank_stability,omitempty"`

	// GQA-aware head rankings (optional): NumKVHeads KV groups, and
	// HeadRankByGroup[layer][group] the group's query heads, most important
	// first (heads are pruned per group; the number of groups is kept).
	NumKVHeads      int       `json:"num_kv_heads,omitempty"`
	HeadRankByGroup [][][]int `json:"head_rank_by_group,omitempty"`
	// StabilitySummary is the mean and min over part pairs of each axis'
	// Spearman correlation (present with RankStability).
	StabilitySummary map[string]AxisSummary `json:"rank_stability_summary,omitempty"`
}

// AxisSummary is the mean and minimum over part pairs of one axis' Spearman
// rank correlation.
type AxisSummary struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
}

// BlockScores is a contiguous-block sweep scored by any function (LM loss,
// downstream accuracy, …): Values[s] is the score with layers s … s+BlockSize−1
// removed.
type BlockScores struct {
	Metric         string    `json:"metric"`           // e.g. "acc", "acc_norm", "lm_loss"
	Task           string    `json:"task,omitempty"`   // e.g. the task file
	HigherIsBetter bool      `json:"higher_is_better"` // true for accuracies
	BlockSize      int       `json:"block_size"`
	Values         []float64 `json:"values"`             // [numLayers−BlockSize+1]
	Baseline       *float64  `json:"baseline,omitempty"` // score of the full model, if measured
}

// RankStability holds Spearman rank correlations of the scores computed on
// disjoint parts of the calibration set: one PartPair per pair of parts.
type RankStability struct {
	Parts          int        `json:"parts"`
	SamplesPerPart int        `json:"samples_per_part,omitempty"`
	Pairs          []PartPair `json:"pairs"`
}

// PartPair is the Spearman correlation between the scores of part A and part
// B, per axis ("ffn", "heads", "hidden", "bi", …).
type PartPair struct {
	A        int                `json:"a"`
	B        int                `json:"b"`
	Spearman map[string]float64 `json:"spearman"`
}

// NumLayers returns the number of layers the scores describe.
func (imp *Importance) NumLayers() int { return len(imp.BI) }

// Validate checks that the score arrays are consistent (same number of
// layers everywhere, rectangular ffn/heads) and finite.
func (imp *Importance) Validate() error {
	n := len(imp.FFN)
	if n == 0 {
		return fmt.Errorf("importance: ffn is empty")
	}
	check := func(name string, v []float64, want int) error {
		if want >= 0 && len(v) != want {
			return fmt.Errorf("importance: %s has %d entries, want %d", name, len(v), want)
		}
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("importance: %s[%d] is %v", name, i, x)
			}
		}
		return nil
	}
	check2 := func(name string, m [][]float64) error {
		if len(m) != n {
			return fmt.Errorf("importance: %s has %d layers, ffn has %d", name, len(m), n)
		}
		for l, row := range m {
			if err := check(fmt.Sprintf("%s[%d]", name, l), row, len(m[0])); err != nil {
				return err
			}
		}
		if len(m[0]) == 0 {
			return fmt.Errorf("importance: %s[0] is empty", name)
		}
		return nil
	}
	if err := check2("ffn", imp.FFN); err != nil {
		return err
	}
	if err := check2("heads", imp.Heads); err != nil {
		return err
	}
	if len(imp.Hidden) == 0 {
		return fmt.Errorf("importance: hidden is empty")
	}
	if err := check("hidden", imp.Hidden, -1); err != nil {
		return err
	}
	if err := check("bi", imp.BI, n); err != nil {
		return err
	}
	if err := check("drop_one_lm_loss", imp.DropOneLMLoss, n); err != nil {
		return err
	}
	if err := check("lm_loss", []float64{imp.LMLoss}, 1); err != nil {
		return err
	}
	if imp.BlockLMLoss != nil {
		if imp.BlockSize < 1 || imp.BlockSize > n {
			return fmt.Errorf("importance: block_size %d out of range [1, %d]", imp.BlockSize, n)
		}
		if err := check("block_lm_loss", imp.BlockLMLoss, n-imp.BlockSize+1); err != nil {
			return err
		}
	}
	if bs := imp.BlockScores; bs != nil {
		if bs.BlockSize < 1 || bs.BlockSize > n {
			return fmt.Errorf("importance: block_scores.block_size %d out of range [1, %d]", bs.BlockSize, n)
		}
		if err := check("block_scores.values", bs.Values, n-bs.BlockSize+1); err != nil {
			return err
		}
	}
	return nil
}

// LoadImportance reads and validates an importance JSON file (written by
// Importance.Save, `gominitron importance`, or a fixture's
// reference_importance.json). It is the one loader of that format. A key
// Importance does not have is refused with its name: every key any writer
// of this project produces is a field of Importance, so an unknown one is a
// typo or a file of another kind, and ignoring it would silently drop a score.
func LoadImportance(path string) (*Importance, error) {
	imp := &Importance{}
	if err := LoadJSON(path, imp); err != nil {
		return nil, err
	}
	if err := imp.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return imp, nil
}

// Save validates imp and writes it to path atomically.
func (imp *Importance) Save(path string) error {
	if err := imp.Validate(); err != nil {
		return fmt.Errorf("saving %s: %w", path, err)
	}
	return SaveJSON(path, imp)
}
