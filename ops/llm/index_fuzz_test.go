package llm

import (
	"path/filepath"
	"slices"
	"testing"
)

// FuzzShardIndex feeds arbitrary bytes as model.safetensors.index.json: it
// must never panic, and every shard file it accepts is a plain file name
// directly inside the model folder (no "..", no absolute path, no
// separator), listed once, and every tensor maps to a listed file.
func FuzzShardIndex(f *testing.F) {
	f.Add([]byte(`{"metadata":{"total_size":8},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`))
	f.Add([]byte(`{"weight_map":{"a":"../etc/passwd"}}`))
	f.Add([]byte(`{"weight_map":{"a":"/abs.safetensors","b":"sub/x.safetensors","c":"..","d":"."}}`))
	f.Add([]byte(`{"weight_map":{}}`))
	f.Add([]byte(`{"weight_map":{"a":"x\\..\\y"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"weight_map":{"a":""}}`))
	const dir = "/models/m"
	f.Fuzz(func(t *testing.T, data []byte) {
		files, weightMap, err := parseShardIndex(dir, filepath.Join(dir, IndexFileName), data)
		if err != nil {
			return
		}
		if len(files) == 0 {
			t.Fatal("accepted an index without files")
		}
		for _, file := range files {
			if filepath.Dir(file) != dir || filepath.Base(file) == ".." || filepath.Base(file) == "." {
				t.Fatalf("shard %q escapes %s", file, dir)
			}
		}
		if !slices.IsSorted(files) || len(slices.Compact(slices.Clone(files))) != len(files) {
			t.Fatalf("files not sorted and unique: %v", files)
		}
		for name, shard := range weightMap {
			if !slices.Contains(files, filepath.Join(dir, shard)) {
				t.Fatalf("tensor %q maps to %q, not a listed file", name, shard)
			}
		}
	})
}
