package importance

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/safetensors"
)

// ReadCalibration reads token data from a .safetensors file: the integer
// tensor "input_ids" [samples, seqLen] and, optionally, "attention_mask"
// [samples, seqLen] (1 = token, 0 = padding; padding must be on the right),
// as written by Hugging Face tokenizers with padding="max_length".
func ReadCalibration(path string) (*Calibration, error) {
	ids, maskT, err := safetensors.ReadInputIDs(path)
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	if ids.Shape().Dim(0) < 1 || ids.Shape().Dim(1) < 2 {
		return nil, fmt.Errorf("importance: %s: input_ids must be [samples, seqLen ≥ 2], got %v", path, ids.Shape().Dimensions)
	}
	rows, cols := ids.Shape().Dim(0), ids.Shape().Dim(1)
	flat := tensors.MustCopyFlatData[int32](ids)
	c := &Calibration{IDs: make([][]int32, rows)}
	for r := range rows {
		c.IDs[r] = flat[r*cols : (r+1)*cols]
	}
	if maskT == nil {
		return c, nil
	}
	mask := tensors.MustCopyFlatData[int32](maskT)
	c.Lengths = make([]int, rows)
	for r := range rows {
		n := 0
		for n < cols && mask[r*cols+n] != 0 {
			n++
		}
		for j := n; j < cols; j++ {
			if mask[r*cols+j] != 0 {
				return nil, fmt.Errorf("importance: %s: attention_mask row %d is not right-padded (token after padding at position %d)", path, r, j)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("importance: %s: attention_mask row %d has no tokens", path, r)
		}
		c.Lengths[r] = n
	}
	return c, nil
}
