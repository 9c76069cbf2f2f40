package importance

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/safetensors"
)

// ReadCalibration reads token data from a .safetensors file: the integer
// tensor "input_ids" [samples, seqLen] and, optionally, "attention_mask"
// [samples, seqLen] (1 = token, 0 = padding; padding must be on the right),
// as written by Hugging Face tokenizers with padding="max_length".
func ReadCalibration(path string) (*Calibration, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids, err := f.Tensor("input_ids", dtypes.Int32)
	if err != nil {
		return nil, fmt.Errorf("importance: %s: %w", path, err)
	}
	if ids.Rank() != 2 || ids.Shape().Dim(0) < 1 || ids.Shape().Dim(1) < 2 {
		return nil, fmt.Errorf("importance: %s: input_ids must be [samples, seqLen ≥ 2], got %v", path, ids.Shape().Dimensions)
	}
	rows, cols := ids.Shape().Dim(0), ids.Shape().Dim(1)
	flat := tensors.MustCopyFlatData[int32](ids)
	c := &Calibration{IDs: make([][]int32, rows)}
	for r := range rows {
		c.IDs[r] = flat[r*cols : (r+1)*cols]
	}
	if _, ok := f.Info("attention_mask"); !ok {
		return c, nil
	}
	maskT, err := f.Tensor("attention_mask", dtypes.Int32)
	if err != nil {
		return nil, fmt.Errorf("importance: %s: %w", path, err)
	}
	if !maskT.Shape().EqualDimensions(ids.Shape()) {
		return nil, fmt.Errorf("importance: %s: attention_mask is %v, input_ids %v", path, maskT.Shape().Dimensions, ids.Shape().Dimensions)
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
