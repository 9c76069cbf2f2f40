package llm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// hfFixtureNames are the model fixtures under testdata/hf.
var hfFixtureNames = []string{"dev-llama-gqa", "dev-llama3-headdim-tied-bf16", "dev-qwen2-bias"}

func TestConfigFixtures(t *testing.T) {
	want := map[string]Config{
		"dev-llama-gqa": {ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: 512, Hidden: 64, FFN: 176,
			NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16, MaxPositions: 256, RMSNormEps: 1e-5, HiddenAct: "silu",
			RopeTheta: 1e4, Rope: RopeScaling{Type: "default"}, TorchDType: "float32", BOSTokenID: intPtr(1), EOSTokenIDs: []int{2},
			InitializerRange: 0.02},
		"dev-llama3-headdim-tied-bf16": {ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: 384, Hidden: 96, FFN: 200,
			NumLayers: 3, NumHeads: 6, NumKVHeads: 2, HeadDim: 24, MaxPositions: 256, RMSNormEps: 1e-5, TieEmbeddings: true, HiddenAct: "silu",
			RopeTheta: 5e5, Rope: RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 16},
			TorchDType: "bfloat16", BOSTokenID: intPtr(1), EOSTokenIDs: []int{2}, InitializerRange: 0.02},
		"dev-qwen2-bias": {ModelType: "qwen2", Architectures: []string{"Qwen2ForCausalLM"}, VocabSize: 300, Hidden: 64, FFN: 128,
			NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16, MaxPositions: 256, RMSNormEps: 1e-6, TieEmbeddings: true,
			AttentionBias: true, HiddenAct: "silu", RopeTheta: 1e6, Rope: RopeScaling{Type: "default"}, TorchDType: "float32",
			InitializerRange: 0.02},
	}
	for _, name := range hfFixtureNames {
		c, err := LoadConfig(filepath.Join("..", "..", "testdata", "hf", name))
		if err != nil {
			t.Fatal(err)
		}
		got := *c
		got.Extra = nil
		if w := want[name]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
		}
		if _, ok := c.Extra["transformers_version"]; !ok {
			t.Errorf("%s: unknown key transformers_version not kept in Extra (%v)", name, c.Extra)
		}
	}
}

// TestConfigRoundTrip: parse → HF → parse gives the same Config, and every
// key of the original file survives with the same meaning.
func TestConfigRoundTrip(t *testing.T) {
	for _, name := range hfFixtureNames {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hf", name, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseConfig(data)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := SaveConfig(dir, c); err != nil {
				t.Fatal(err)
			}
			written, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			c2, err := ParseConfig(written)
			if err != nil {
				t.Fatalf("re-parsing the written config: %v\n%s", err, written)
			}
			if !reflect.DeepEqual(c, c2) {
				t.Errorf("round trip changed the config:\n got %+v\nwant %+v", c2, c)
			}
			var orig, out map[string]any
			_ = json.Unmarshal(data, &orig)
			_ = json.Unmarshal(written, &out)
			if out["head_dim"] != float64(c.HeadDim) || out["rope_parameters"] != nil || out["dtype"] != nil {
				t.Errorf("written config is not the classic form with head_dim: %s", written)
			}
			for k, v := range orig {
				switch k {
				case "rope_parameters": // transformers-5 form → classic
					p := v.(map[string]any)
					if out["rope_theta"] != p["rope_theta"] || (p["rope_type"] == "default" && out["rope_scaling"] != nil) {
						t.Errorf("rope_parameters %v written as rope_theta %v rope_scaling %v", p, out["rope_theta"], out["rope_scaling"])
					}
				case "dtype":
					if out["torch_dtype"] != v {
						t.Errorf("dtype %v written as torch_dtype %v", v, out["torch_dtype"])
					}
				case "layer_types": // all full_attention: dropped (transformers derives it)
				default:
					if !reflect.DeepEqual(out[k], v) {
						t.Errorf("key %s: original %v, written %v", k, v, out[k])
					}
				}
			}
			if !strings.Contains(string(written), `"rms_norm_eps": 1e-0`) || !strings.Contains(string(written), `"rope_theta": `+pythonFloat(c.RopeTheta)) {
				t.Errorf("floats not written Python-style:\n%s", written)
			}
		})
	}
}

// baseConfig is a minimal valid llama config; mutate applies overrides
// (a nil value deletes the key).
func baseConfig(mutate map[string]any) []byte {
	m := map[string]any{
		"model_type": "llama", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64,
		"num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 128,
	}
	for k, v := range mutate {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// jsonNull is a placeholder for an explicit JSON null in baseConfig overrides.
type jsonNull struct{}

func (jsonNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func TestConfigDefaultsAndForms(t *testing.T) {
	cases := []struct {
		name  string
		mut   map[string]any
		check func(c *Config) bool
	}{
		{"head_dim defaults to hidden/heads, kv heads to heads", nil,
			func(c *Config) bool {
				return c.HeadDim == 8 && c.NumKVHeads == 4 && c.RopeTheta == 1e4 && c.RMSNormEps == 1e-6
			}},
		{"llama default bos/eos", nil, func(c *Config) bool { return *c.BOSTokenID == 1 && reflect.DeepEqual(c.EOSTokenIDs, []int{2}) }},
		{"eos list", map[string]any{"eos_token_id": []int{5, 7}}, func(c *Config) bool { return reflect.DeepEqual(c.EOSTokenIDs, []int{5, 7}) }},
		{"eos null", map[string]any{"eos_token_id": jsonNull{}}, func(c *Config) bool { return c.EOSTokenIDs == nil }},
		{"mistral kv default 8", map[string]any{"model_type": "mistral", "num_attention_heads": 16, "sliding_window": jsonNull{}},
			func(c *Config) bool { return c.NumKVHeads == 8 && !c.AttentionBias }},
		{"mistral window ≥ max positions is inactive", map[string]any{"model_type": "mistral", "sliding_window": 128, "num_key_value_heads": 2},
			func(c *Config) bool { return c.ModelType == "mistral" }},
		{"mistral ignores attention_bias", map[string]any{"model_type": "mistral", "sliding_window": jsonNull{}, "attention_bias": true, "num_key_value_heads": 2},
			func(c *Config) bool { return !c.AttentionBias && c.Extra["attention_bias"] == true }},
		{"qwen2 always has qkv bias, kv default 32", map[string]any{"model_type": "qwen2", "num_attention_heads": 32, "hidden_size": 64},
			func(c *Config) bool {
				return c.AttentionBias && c.NumKVHeads == 32 && c.HeadDim == 2 && c.BOSTokenID == nil
			}},
		{"qwen2 use_sliding_window with few layers is inactive", map[string]any{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 16, "max_window_layers": 2, "num_key_value_heads": 2},
			func(c *Config) bool { return c.AttentionBias }},
		{"classic llama3", map[string]any{"rope_theta": 5e5, "rope_scaling": map[string]any{"type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 64}},
			func(c *Config) bool { return c.Rope.Type == "llama3" && c.Rope.Factor == 8 && c.RopeTheta == 5e5 }},
		{"t5 llama3", map[string]any{"rope_parameters": map[string]any{"rope_type": "llama3", "rope_theta": 5e5, "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 64}},
			func(c *Config) bool {
				return c.Rope.Type == "llama3" && c.Rope.OriginalMaxPositionEmbeddings == 64 && c.RopeTheta == 5e5
			}},
		{"rope_scaling null", map[string]any{"rope_scaling": jsonNull{}}, func(c *Config) bool { return c.Rope.Type == "default" }},
		{"torch. prefix", map[string]any{"torch_dtype": "torch.bfloat16"}, func(c *Config) bool { return c.TorchDType == "bfloat16" }},
		{"zero experts is fine", map[string]any{"num_experts": 0}, func(c *Config) bool { return true }},
		{"llama ignores sliding_window", map[string]any{"sliding_window": 16}, func(c *Config) bool { return c.Extra["sliding_window"] != nil }},
		{"layer_types all full", map[string]any{"layer_types": []string{"full_attention", "full_attention"}}, func(c *Config) bool { return c.Extra["layer_types"] == nil }},
	}
	for _, tc := range cases {
		c, err := ParseConfig(baseConfig(tc.mut))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%s: unexpected config %+v", tc.name, c)
		}
		// Every accepted config survives the round trip.
		data, err := c.HFJSON()
		if err != nil {
			t.Fatal(err)
		}
		if c2, err := ParseConfig(data); err != nil || !reflect.DeepEqual(c, c2) {
			t.Errorf("%s: round trip: %v\n%+v\n%+v", tc.name, err, c, c2)
		}
	}
}

func TestConfigRejects(t *testing.T) {
	llama3 := func(extra map[string]any) map[string]any {
		m := map[string]any{"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 64}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name string
		data []byte
		want string // substring naming the field
	}{
		{"not JSON", []byte(`{"model_type":`), "invalid JSON"},
		{"not an object", []byte(`[]`), "invalid JSON"},
		{"unknown model_type", baseConfig(map[string]any{"model_type": "gpt2"}), `model_type: "gpt2" is not supported`},
		{"missing model_type", baseConfig(map[string]any{"model_type": nil}), "model_type"},
		{"missing hidden_size", baseConfig(map[string]any{"hidden_size": nil}), "hidden_size: missing"},
		{"string vocab", baseConfig(map[string]any{"vocab_size": "100"}), "vocab_size: must be an integer"},
		{"fractional layers", baseConfig(map[string]any{"num_hidden_layers": 2.5}), "num_hidden_layers: must be an integer"},
		{"zero heads", baseConfig(map[string]any{"num_attention_heads": 0}), "num_attention_heads: must be positive"},
		{"kv heads do not divide", baseConfig(map[string]any{"num_key_value_heads": 3}), "num_key_value_heads"},
		{"odd head_dim", baseConfig(map[string]any{"head_dim": 7}), "head_dim"},
		{"gelu", baseConfig(map[string]any{"hidden_act": "gelu"}), `hidden_act: "gelu" is not supported`},
		{"yarn classic", baseConfig(map[string]any{"rope_scaling": map[string]any{"rope_type": "yarn", "factor": 4}}), `rope_scaling.rope_type: "yarn" is not supported`},
		{"linear legacy type", baseConfig(map[string]any{"rope_scaling": map[string]any{"type": "linear", "factor": 2}}), `rope_scaling.rope_type: "linear"`},
		{"dynamic t5", baseConfig(map[string]any{"rope_parameters": map[string]any{"rope_type": "dynamic", "rope_theta": 1e4, "factor": 2}}), `rope_parameters.rope_type: "dynamic"`},
		{"llama3 missing factor", baseConfig(map[string]any{"rope_scaling": llama3(map[string]any{"factor": jsonNull{}})}), "rope_scaling.factor: missing"},
		{"llama3 high ≤ low", baseConfig(map[string]any{"rope_scaling": llama3(map[string]any{"high_freq_factor": 1})}), "high_freq_factor"},
		{"unknown rope key", baseConfig(map[string]any{"rope_scaling": llama3(map[string]any{"mrope_section": []int{1}})}), "rope_scaling.mrope_section"},
		{"both rope forms", baseConfig(map[string]any{"rope_scaling": llama3(nil), "rope_parameters": map[string]any{"rope_theta": 1e4}}), "both given"},
		{"theta disagreement", baseConfig(map[string]any{"rope_theta": 1e4, "rope_parameters": map[string]any{"rope_type": "default", "rope_theta": 5e5}}), "disagree"},
		{"partial rotary", baseConfig(map[string]any{"partial_rotary_factor": 0.5}), "partial_rotary_factor"},
		{"rope_scaling not object", baseConfig(map[string]any{"rope_scaling": "llama3"}), "rope_scaling: must be an object"},
		{"MoE num_local_experts", baseConfig(map[string]any{"num_local_experts": 8}), "num_local_experts: mixture-of-experts"},
		{"MoE num_experts", baseConfig(map[string]any{"model_type": "qwen2", "num_experts": 60}), "num_experts: mixture-of-experts"},
		{"quantized", baseConfig(map[string]any{"quantization_config": map[string]any{"bits": 4}}), "quantization_config"},
		{"mistral active window", baseConfig(map[string]any{"model_type": "mistral", "sliding_window": 64, "num_key_value_heads": 2}), "sliding_window: 64 < max_position_embeddings=128"},
		{"mistral default window", baseConfig(map[string]any{"model_type": "mistral", "max_position_embeddings": 32768, "num_key_value_heads": 2}), "sliding_window: 4096"},
		{"qwen2 active window", baseConfig(map[string]any{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 64, "max_window_layers": 1, "num_key_value_heads": 2}), "use_sliding_window"},
		{"sliding layer type", baseConfig(map[string]any{"layer_types": []string{"full_attention", "sliding_attention"}}), "layer_types[1]"},
		{"layer_types length", baseConfig(map[string]any{"layer_types": []string{"full_attention"}}), "layer_types: has 1 entries"},
		{"bad dtype", baseConfig(map[string]any{"torch_dtype": "int8"}), `torch_dtype: "int8"`},
		{"bad t5 dtype", baseConfig(map[string]any{"dtype": "float8"}), `dtype: "float8"`},
		{"bool as string", baseConfig(map[string]any{"tie_word_embeddings": "true"}), "tie_word_embeddings: must be true or false"},
		{"eos string", baseConfig(map[string]any{"eos_token_id": "x"}), "eos_token_id"},
		{"architectures not list", baseConfig(map[string]any{"architectures": "LlamaForCausalLM"}), "architectures"},
		{"absurd layer count", baseConfig(map[string]any{"num_hidden_layers": 1 << 30}), "num_hidden_layers: 1073741824 is implausibly large"},
		{"absurd head_dim", baseConfig(map[string]any{"head_dim": 1 << 30}), "head_dim: 1073741824 is implausibly large"},
		{"negative eps", baseConfig(map[string]any{"rms_norm_eps": -1}), "rms_norm_eps"},
	}
	for _, tc := range cases {
		_, err := ParseConfig(tc.data)
		if err == nil {
			t.Errorf("%s: accepted %s", tc.name, tc.data)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not name %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadConfig(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("LoadConfig of an empty folder: %v", err)
	}
}

func TestPythonFloat(t *testing.T) {
	for f, want := range map[float64]string{1e-5: "1e-05", 1e-6: "1e-06", 10000: "10000.0", 0.02: "0.02", 5e5: "500000.0", 8: "8.0", 0: "0.0", 1e16: "1e+16", 1.5e-7: "1.5e-07", -2.5: "-2.5"} {
		if got := pythonFloat(f); got != want {
			t.Errorf("pythonFloat(%g) = %s, want %s", f, got, want)
		}
	}
}
