package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/gomlx/core/tensors"
)

// fixtureDir is the Hugging Face reference models (see testdata/hf/README.md).
const fixtureDir = "../../testdata/hf"

// rawFile builds a safetensors file from a header JSON and dataLen data bytes
// (filled with a counting pattern).
func rawFile(header string, dataLen int) []byte {
	b := make([]byte, 8, 8+len(header)+dataLen)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	for i := range dataLen {
		b = append(b, byte(i))
	}
	return b
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSafetensorsOpenFixtures(t *testing.T) {
	f, err := Open(filepath.Join(fixtureDir, "dev-llama-gqa", "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ti, ok := f.Info("input_ids")
	if !ok || ti.DType != I32 || len(ti.Shape) != 2 || ti.Shape[0] != 4 || ti.Shape[1] != 32 {
		t.Fatalf("input_ids info = %+v, %v; want I32 [4 32]", ti, ok)
	}
	ids, err := f.Tensor("input_ids", dtypes.Int32)
	if err != nil {
		t.Fatal(err)
	}
	flat := tensors.MustCopyFlatData[int32](ids)
	raw, _ := f.Bytes("input_ids")
	for i, v := range flat {
		if want := int32(binary.LittleEndian.Uint32(raw[4*i:])); v != want {
			t.Fatalf("input_ids[%d] = %d, want %d", i, v, want)
		}
	}
	ids64, err := f.Tensor("input_ids", dtypes.Int64)
	if err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[int64](ids64); got[5] != int64(flat[5]) {
		t.Fatalf("I32→I64: %d != %d", got[5], flat[5])
	}
	if _, err := f.Tensor("logits", dtypes.Int32); err == nil || !strings.Contains(err.Error(), "cannot convert F32 to I32") {
		t.Fatalf("float→int conversion: err = %v", err)
	}

	// bf16 weights convert exactly to float32.
	m, err := Open(filepath.Join(fixtureDir, "dev-llama3-headdim-tied-bf16", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	name := "model.layers.0.mlp.up_proj.weight"
	w, err := m.Tensor(name, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = m.Bytes(name)
	got := tensors.MustCopyFlatData[float32](w)
	for i := range got {
		if want := bfloat16.BFloat16(binary.LittleEndian.Uint16(raw[2*i:])).Float32(); got[i] != want {
			t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], want)
		}
	}
	wb, err := m.Tensor(name, dtypes.InvalidDType) // native dtype
	if err != nil || wb.DType() != dtypes.BFloat16 {
		t.Fatalf("native dtype: %v, %v", wb, err)
	}
	if len(m.Names()) == 0 || m.Metadata()["format"] != "pt" {
		t.Fatalf("names %d, metadata %v", len(m.Names()), m.Metadata())
	}
}

func TestSafetensorsWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	f32 := tensors.FromValue([][]float32{{1, -2.5, 3.25}, {1e-3, 65504, -0}})
	i32 := tensors.FromValue([]int32{7, -8, 1 << 30})
	bf := tensors.FromFlatDataAndDimensions(bfloat16.FromFloat32s(0.5, -1, 3), 3)
	scalar := tensors.FromScalar(float32(42))
	ts := []NamedTensor{{Name: "b", T: f32}, {Name: "a", T: i32}, {Name: "c", T: bf}, {Name: "s", T: scalar}}
	if err := Write(path, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.Names(), ","); got != "a,b,c,s" {
		t.Fatalf("names %s", got)
	}
	for _, nt := range ts {
		back, err := f.Tensor(nt.Name, nt.T.DType())
		if err != nil {
			t.Fatal(err)
		}
		if !back.Equal(nt.T) {
			t.Errorf("%s: wrote %v read %v", nt.Name, nt.T, back)
		}
	}
	// Stored as F16: floats convert, ints keep their dtype.
	path16 := filepath.Join(dir, "y.safetensors")
	if err := WriteAs(path16, ts, dtypes.Float16, nil); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path16)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for name, want := range map[string]DType{"a": I32, "b": F16, "c": F16, "s": F16} {
		if ti, _ := g.Info(name); ti.DType != want {
			t.Errorf("%s stored as %s, want %s", name, ti.DType, want)
		}
	}
	b32, _ := g.Tensor("b", dtypes.Float32)
	gotB := tensors.MustCopyFlatData[float32](b32)
	for i, v := range tensors.MustCopyFlatData[float32](f32) {
		if want := float16.FromFloat32(v).Float32(); gotB[i] != want {
			t.Errorf("b[%d] via F16 = %g, want %g", i, gotB[i], want)
		}
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want 2", len(entries))
	}
	if err := Write(path, []NamedTensor{{Name: "a", T: i32}, {Name: "a", T: i32}}, nil); err == nil || !strings.Contains(err.Error(), `"a" given twice`) {
		t.Errorf("duplicate name: err = %v", err)
	}
}

// TestSafetensorsBadFile checks that every malformed file is rejected with an
// error naming the problem (and the tensor where there is one).
func TestSafetensorsBadFile(t *testing.T) {
	good := `{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}}`
	bigHeader := make([]byte, 8)
	binary.LittleEndian.PutUint64(bigHeader, 1<<40)
	cases := []struct {
		name string
		file []byte
		want []string // substrings of the error
	}{
		{"empty file", nil, []string{"too short"}},
		{"header length beyond file", rawFile(good, 32)[:40], []string{"header length", "truncated"}},
		{"absurd header length", bigHeader, []string{"exceeds the 100000000-byte limit"}},
		{"truncated data", rawFile(good, 32)[:8+len(good)+30], []string{"truncated file", `"b"`}},
		{"bad JSON", rawFile(`{"a":{"dtype":"F32",`, 0), []string{"bad JSON header"}},
		{"not an object", rawFile(`[1,2]`, 0), []string{"not a JSON object"}},
		{"trailing garbage after JSON", rawFile(`{} x`, 0), []string{"bad JSON header", "unexpected bytes"}},
		{"offsets out of range", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[100,108]}}`, 16),
			[]string{`"b"`, "out of range"}},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, 16),
			[]string{`"b"`, "overlap", `"a"`}},
		{"gap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`, 20),
			[]string{`"b"`, "gap"}},
		{"dtype/shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8),
			[]string{`"a"`, "dtype/shape mismatch", "needs 12 bytes"}},
		{"begin after end", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, 8), []string{`"a"`, "begin <= end"}},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), []string{`"a"`, "invalid dim"}},
		{"huge shape", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4), []string{`"a"`, "too large"}},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, 1), []string{`"a"`, `unknown dtype "Q4"`}},
		{"missing offsets", rawFile(`{"a":{"dtype":"F32","shape":[1]}}`, 4), []string{`"a"`, "data_offsets"}},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 4), []string{`"a"`, "[begin, end]"}},
		{"trailing bytes", rawFile(good, 40), []string{"8 trailing bytes"}},
		{"metadata not strings", rawFile(`{"__metadata__":{"x":1}}`, 0), []string{"__metadata__"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "bad.safetensors", tc.file)
			f, err := Open(path)
			if err == nil {
				f.Close()
				t.Fatalf("Open accepted a bad file")
			}
			msg := err.Error()
			for _, w := range append(tc.want, path) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
	// The good header itself is accepted, and so are zero-size and scalar tensors.
	if _, err := FromBytes("good", rawFile(good, 32)); err != nil {
		t.Errorf("valid file rejected: %v", err)
	}
	f, err := FromBytes("zero", rawFile(`{"z":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, 8))
	if err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
	if z, err := f.Tensor("z", dtypes.Float32); err != nil || z.Size() != 0 {
		t.Errorf("zero-size tensor: %v, %v", z, err)
	}
	if a, err := f.Tensor("a", dtypes.Int64); err != nil || tensors.ToScalar[int64](a) != 0x0706050403020100 {
		t.Errorf("scalar tensor: %v, %v", a, err)
	}
}
