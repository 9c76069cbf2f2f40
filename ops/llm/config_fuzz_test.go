package llm

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseConfig feeds arbitrary bytes to ParseConfig: it must never panic,
// and every config it accepts must survive HFJSON → ParseConfig unchanged.
func FuzzParseConfig(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "hf", "*", "config.json"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add(baseConfig(map[string]any{"model_type": "mistral", "sliding_window": jsonNull{}, "num_key_value_heads": 2}))
	f.Add(baseConfig(map[string]any{"model_type": "qwen2", "use_sliding_window": true, "num_key_value_heads": 1, "eos_token_id": []int{1, 2}}))
	f.Add(baseConfig(map[string]any{"rope_scaling": map[string]any{"type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 64}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		_ = c.TensorShapes()
		_ = c.Params()
		out, err := c.HFJSON()
		if err != nil {
			t.Fatalf("HFJSON of an accepted config: %v", err)
		}
		c2, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("re-parsing HFJSON: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v\n%s", c, c2, out)
		}
	})
}
