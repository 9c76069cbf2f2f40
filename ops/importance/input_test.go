package importance

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/safetensors"
)

func TestReadCalibration(t *testing.T) {
	dir := t.TempDir()
	ids := tensors.FromValue([][]int32{{5, 6, 7, 8}, {1, 2, 0, 0}})
	write := func(name string, ts ...safetensors.NamedTensor) string {
		path := filepath.Join(dir, name)
		if err := safetensors.Write(path, ts, nil); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plain := write("plain.safetensors", safetensors.NamedTensor{Name: "input_ids", T: ids})
	c, err := ReadCalibration(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.IDs, [][]int32{{5, 6, 7, 8}, {1, 2, 0, 0}}) || c.Lengths != nil || c.Tokens() != 8 {
		t.Errorf("plain: %+v", c)
	}
	masked := write("masked.safetensors", safetensors.NamedTensor{Name: "input_ids", T: ids},
		safetensors.NamedTensor{Name: "attention_mask", T: tensors.FromValue([][]int32{{1, 1, 1, 1}, {1, 1, 0, 0}})})
	if c, err = ReadCalibration(masked); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Lengths, []int{4, 2}) || c.Tokens() != 6 {
		t.Errorf("masked: lengths %v tokens %d", c.Lengths, c.Tokens())
	}
	for _, tc := range []struct {
		name string
		ts   []safetensors.NamedTensor
		want string
	}{
		{"left.safetensors", []safetensors.NamedTensor{{Name: "input_ids", T: ids},
			{Name: "attention_mask", T: tensors.FromValue([][]int32{{1, 1, 1, 1}, {0, 0, 1, 1}})}}, "not right-padded"},
		{"empty.safetensors", []safetensors.NamedTensor{{Name: "input_ids", T: ids},
			{Name: "attention_mask", T: tensors.FromValue([][]int32{{1, 1, 1, 1}, {0, 0, 0, 0}})}}, "no tokens"},
		{"shape.safetensors", []safetensors.NamedTensor{{Name: "input_ids", T: ids},
			{Name: "attention_mask", T: tensors.FromValue([][]int32{{1, 1, 1, 1}})}}, "attention_mask is"},
		{"noids.safetensors", []safetensors.NamedTensor{{Name: "tokens", T: ids}}, "input_ids"},
		{"rank.safetensors", []safetensors.NamedTensor{{Name: "input_ids", T: tensors.FromValue([]int32{1, 2, 3})}}, "input_ids must be [rows, seqLen]"},
	} {
		if _, err := ReadCalibration(write(tc.name, tc.ts...)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCalibrationValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Calibration
		want string
	}{
		{"empty", Calibration{}, "empty"},
		{"short", Calibration{IDs: [][]int32{{1}}}, "at least 2"},
		{"ragged", Calibration{IDs: [][]int32{{1, 2}, {1, 2, 3}}}, "sample 1 has 3 tokens"},
		{"vocab", Calibration{IDs: [][]int32{{1, 99}}}, "outside the vocabulary"},
		{"length", Calibration{IDs: [][]int32{{1, 2}}, Lengths: []int{0}}, "length 0"},
		{"lengths count", Calibration{IDs: [][]int32{{1, 2}}, Lengths: []int{1, 2}}, "2 lengths for 1"},
	} {
		if err := tc.c.Validate(10); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
