package importance

import (
	"fmt"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
)

// LayerCurve is the LM loss of a model with every contiguous block of
// BlockSize layers removed: Loss[s] has layers s … s+BlockSize−1 removed,
// s = 0 … numLayers−BlockSize (the curves of the Minitron blog's Figure 5).
type LayerCurve struct {
	BlockSize int       `json:"block_size"`
	Loss      []float64 `json:"loss"` // [numLayers−BlockSize+1] nats
}

// LayerCurves is the full model's LM loss and one LayerCurve per block size.
type LayerCurves struct {
	NumLayers int          `json:"num_layers"`
	FullLoss  float64      `json:"full_loss"` // nothing removed
	Curves    []LayerCurve `json:"curves"`
}

// blogLayers is the depth of Llama-3.1-8B, the model of the blog's Figure 5
// (blocks of 1, 2, 8 and 16 of its 32 layers removed).
const blogLayers = 32

// ScaledBlockSizes maps the blog's removed-block sizes {1, 2, 8, 16} of 32
// layers to a model of numLayers layers: 1 and 2 stay absolute (removing
// one or two layers), 8 and 16 keep their fraction (numLayers/4 and
// numLayers/2, rounded down), and numLayers−1 (all but one layer) is added
// as the extreme end. Sizes are clamped to [1, numLayers−1], deduplicated
// and sorted, e.g. 4 layers → [1 2 3], 32 layers → [1 2 8 16 31].
func ScaledBlockSizes(numLayers int) []int {
	if numLayers < 2 {
		return nil
	}
	var out []int
	for _, k := range []int{1, 2, numLayers * 8 / blogLayers, numLayers * 16 / blogLayers, numLayers - 1} {
		k = min(max(k, 1), numLayers-1)
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// ComputeLayerCurves measures the next-token LM loss over calib of m with
// every contiguous block of each size in blockSizes removed (BlockSweep with
// LMLossScorer; batchSize 0 = DefaultBatchSize). progress, optional, is
// called after each scored block with the block size and the number done
// and total over all sizes.
func ComputeLayerCurves(backend compute.Backend, m *llm.Model, calib *Calibration, blockSizes []int, batchSize int,
	progress func(blockSize, done, total int)) (*LayerCurves, error) {
	if m == nil {
		return nil, fmt.Errorf("importance: layer curves: nil model")
	}
	n := m.Config.NumLayers
	total := 0
	for _, k := range blockSizes {
		if k < 1 || k > n {
			return nil, fmt.Errorf("importance: layer curves: block size %d out of range [1, %d] for %s", k, n, m.Source)
		}
		total += n - k + 1
	}
	score, err := LMLossScorer(backend, m.Config, m.Weights, calib, batchSize, dtypes.Float32)
	if err != nil {
		return nil, err
	}
	full, err := score(make([]bool, n))
	if err != nil {
		return nil, err
	}
	if err := checkFiniteLosses("full-model LM loss", []float64{full}); err != nil {
		return nil, err
	}
	out := &LayerCurves{NumLayers: n, FullLoss: full}
	done := 0
	for _, k := range blockSizes {
		loss, err := BlockSweep(n, k, score, func(int, int) {
			done++
			if progress != nil {
				progress(k, done, total)
			}
		})
		if err != nil {
			return nil, err
		}
		out.Curves = append(out.Curves, LayerCurve{BlockSize: k, Loss: loss})
	}
	return out, nil
}
