package safetensors

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// ReadInputIDs reads token rows as Hugging Face tokenizers save them:
// "input_ids" [rows, seqLen] (any integer dtype) and, when the file has one,
// "attention_mask" of the same shape (1 = token, 0 = padding; nil when
// absent), both as int32 host tensors. Errors name the file and the tensor.
func ReadInputIDs(path string) (ids, mask *tensors.Tensor, err error) {
	f, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if _, ok := f.Info("input_ids"); !ok {
		return nil, nil, fmt.Errorf("safetensors: %s: no tensor \"input_ids\" (has %s)", path, strings.Join(f.Names(), ", "))
	}
	if ids, err = f.Tensor("input_ids", dtypes.Int32); err != nil {
		return nil, nil, err
	}
	if ids.Rank() != 2 {
		return nil, nil, fmt.Errorf("safetensors: %s: input_ids must be [rows, seqLen], got %v", path, ids.Shape().Dimensions)
	}
	if _, ok := f.Info("attention_mask"); !ok {
		return ids, nil, nil
	}
	if mask, err = f.Tensor("attention_mask", dtypes.Int32); err != nil {
		return nil, nil, err
	}
	if !mask.Shape().EqualDimensions(ids.Shape()) {
		return nil, nil, fmt.Errorf("safetensors: %s: attention_mask is %v, input_ids %v", path, mask.Shape().Dimensions, ids.Shape().Dimensions)
	}
	return ids, mask, nil
}
