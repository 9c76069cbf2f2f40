package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestWriteProduced: tensors given by Produce are written byte for byte as
// the same tensors given directly, in every output dtype; a produced tensor
// that disagrees with its declared shape is an error naming it.
func TestWriteProduced(t *testing.T) {
	dir := t.TempDir()
	newF32 := func() *tensors.Tensor {
		return tensors.FromFlatDataAndDimensions([]float32{1, -2.5, 3, 0.125, 7, -8}, 2, 3)
	}
	newBF := func() *tensors.Tensor { return tensors.FromFlatDataAndDimensions(bfloat16.FromFloat32s(0.5, -1, 3), 3) }
	for _, out := range []dtypes.DType{dtypes.InvalidDType, dtypes.BFloat16, dtypes.Float32} {
		direct := []NamedTensor{{Name: "w", T: newF32()}, {Name: "b", T: newBF()}}
		produced := []NamedTensor{
			{Name: "w", Shape: newF32().Shape(), Produce: func() (*tensors.Tensor, error) { return newF32(), nil }},
			{Name: "b", Shape: newBF().Shape(), Produce: func() (*tensors.Tensor, error) { return newBF(), nil }},
		}
		a, b := filepath.Join(dir, "direct.safetensors"), filepath.Join(dir, "produced.safetensors")
		if err := WriteAs(a, direct, out, nil); err != nil {
			t.Fatal(err)
		}
		if err := WriteAs(b, produced, out, nil); err != nil {
			t.Fatal(err)
		}
		da, _ := os.ReadFile(a)
		db, _ := os.ReadFile(b)
		if !bytes.Equal(da, db) {
			t.Errorf("output dtype %s: produced file differs from the direct one", out)
		}
	}
	wrong := []NamedTensor{{Name: "w", Shape: newBF().Shape(), Produce: func() (*tensors.Tensor, error) { return newF32(), nil }}}
	if err := Write(filepath.Join(dir, "wrong.safetensors"), wrong, nil); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Errorf("produced tensor of the wrong shape: err = %v, want an error naming \"w\"", err)
	}
}
