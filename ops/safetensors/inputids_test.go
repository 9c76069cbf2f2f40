package safetensors

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestReadInputIDs: int64 ids come back as int32 with the mask (nil when the
// file has none); a missing, float, rank-1 input_ids or a mask of another
// shape is an error naming the file and the tensor.
func TestReadInputIDs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, ts ...NamedTensor) string {
		path := filepath.Join(dir, name)
		if err := Write(path, ts, nil); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ids64 := tensors.FromValue([][]int64{{5, 6, 7}, {1, 2, 0}})
	mask := tensors.FromValue([][]int32{{1, 1, 1}, {1, 1, 0}})
	for _, tc := range []struct {
		name     string
		ts       []NamedTensor
		wantMask bool
	}{
		{"plain.safetensors", []NamedTensor{{Name: "input_ids", T: ids64}}, false},
		{"masked.safetensors", []NamedTensor{{Name: "input_ids", T: ids64}, {Name: "attention_mask", T: mask}}, true},
	} {
		ids, m, err := ReadInputIDs(write(tc.name, tc.ts...))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := tensors.MustCopyFlatData[int32](ids); !reflect.DeepEqual(got, []int32{5, 6, 7, 1, 2, 0}) || ids.Shape().Dim(1) != 3 {
			t.Errorf("%s: ids %v %v", tc.name, got, ids.Shape())
		}
		if (m != nil) != tc.wantMask || (m != nil && !reflect.DeepEqual(tensors.MustCopyFlatData[int32](m), []int32{1, 1, 1, 1, 1, 0})) {
			t.Errorf("%s: mask %v, want one: %v", tc.name, m, tc.wantMask)
		}
	}
	for _, tc := range []struct {
		name string
		ts   []NamedTensor
		want string
	}{
		{"noids.safetensors", []NamedTensor{{Name: "tokens", T: ids64}}, `no tensor "input_ids" (has tokens)`},
		{"float.safetensors", []NamedTensor{{Name: "input_ids", T: tensors.FromValue([][]float32{{1, 2}})}}, "input_ids"},
		{"rank.safetensors", []NamedTensor{{Name: "input_ids", T: tensors.FromValue([]int32{1, 2, 3})}}, "input_ids must be [rows, seqLen]"},
		{"shape.safetensors", []NamedTensor{{Name: "input_ids", T: ids64}, {Name: "attention_mask", T: tensors.FromValue([][]int32{{1, 1, 1}})}}, "attention_mask is [1 3], input_ids [2 3]"},
	} {
		path := write(tc.name, tc.ts...)
		if _, _, err := ReadInputIDs(path); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want %q and the path", tc.name, err, tc.want)
		}
	}
}
