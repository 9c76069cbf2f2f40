package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute/dtypes"
)

// FuzzSafetensorsHeader feeds arbitrary bytes to the parser: it must return an
// error or a File whose every tensor can be read, never panic.
func FuzzSafetensorsHeader(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtureDir, "*", "*.safetensors"))
	for _, p := range seeds {
		// The fixtures' real headers, with only a little data after them:
		// whole files would make each fuzz execution slow.
		if data, err := os.ReadFile(p); err == nil && len(data) >= 8 {
			n := min(len(data), 8+int(binary.LittleEndian.Uint64(data))+64)
			f.Add(data[:n])
		}
	}
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}}`, 32))
	f.Add(rawFile(`{"__metadata__":{"format":"pt"},"x":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}`, 8))
	f.Add(rawFile(`{}`, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := FromBytes("fuzz", data)
		if err != nil {
			return
		}
		for _, name := range file.Names() {
			ti, _ := file.Info(name)
			b, err := file.Bytes(name)
			if err != nil || int64(len(b)) != ti.End-ti.Begin {
				t.Fatalf("%s: Bytes len %d, info %+v, err %v", name, len(b), ti, err)
			}
			if ti.NumElements() <= 1<<16 {
				_, _ = file.Tensor(name, dtypes.InvalidDType)
				if ti.DType.IsFloat() {
					if _, err := file.Tensor(name, dtypes.Float32); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				}
			}
		}
	})
}
