package llm

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/gominitron/gominitron/internal/fileio"
)

// HF returns the config in the classic hub form (rope_theta + rope_scaling,
// torch_dtype, head_dim explicit), with Extra's keys added unchanged (keys
// this package writes itself take precedence over Extra). It is what
// SaveConfig writes; transformers 4.x and 5.x both load it.
func (c *Config) HF() map[string]any {
	m := make(map[string]any, len(c.Extra)+32)
	for k, v := range c.Extra {
		m[k] = v
	}
	arch := c.Architectures
	if arch == nil {
		if d, ok := defaultsByModelType[c.ModelType]; ok {
			arch = []string{d.architecture}
		}
	}
	m["architectures"] = append([]string{}, arch...)
	m["model_type"] = c.ModelType
	m["vocab_size"] = c.VocabSize
	m["hidden_size"] = c.Hidden
	m["intermediate_size"] = c.FFN
	m["num_hidden_layers"] = c.NumLayers
	m["num_attention_heads"] = c.NumHeads
	m["num_key_value_heads"] = c.NumKVHeads
	m["head_dim"] = c.HeadDim
	m["max_position_embeddings"] = c.MaxPositions
	m["rms_norm_eps"] = c.RMSNormEps
	m["initializer_range"] = c.InitializerRange
	m["tie_word_embeddings"] = c.TieEmbeddings
	act := c.HiddenAct
	if act == "" {
		act = "silu"
	}
	m["hidden_act"] = act
	m["rope_theta"] = c.RopeTheta
	if c.Rope.Type == "llama3" {
		m["rope_scaling"] = map[string]any{
			"rope_type":                        "llama3",
			"factor":                           c.Rope.Factor,
			"low_freq_factor":                  c.Rope.LowFreqFactor,
			"high_freq_factor":                 c.Rope.HighFreqFactor,
			"original_max_position_embeddings": c.Rope.OriginalMaxPositionEmbeddings,
		}
	} else {
		m["rope_scaling"] = nil
	}
	if c.TorchDType != "" {
		m["torch_dtype"] = c.TorchDType
	}
	m["bos_token_id"] = intOrNil(c.BOSTokenID)
	m["pad_token_id"] = intOrNil(c.PadTokenID)
	switch len(c.EOSTokenIDs) {
	case 0:
		m["eos_token_id"] = nil
	case 1:
		m["eos_token_id"] = c.EOSTokenIDs[0]
	default:
		m["eos_token_id"] = append([]int{}, c.EOSTokenIDs...)
	}
	switch c.ModelType {
	case "llama":
		m["attention_bias"] = c.AttentionBias
		m["mlp_bias"] = c.MLPBias
	case "mistral":
		m["sliding_window"] = nil
	case "qwen2":
		m["use_sliding_window"] = false
		m["sliding_window"] = nil
	}
	return m
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// HFJSON is HF encoded the way transformers writes config.json: sorted keys,
// 2-space indentation, floats always with a decimal point or exponent.
func (c *Config) HFJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := encodePythonJSON(&buf, c.HF(), ""); err != nil {
		return nil, fmt.Errorf("llm: encoding config: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// SaveConfig writes dir/config.json (HFJSON) atomically.
func SaveConfig(dir string, c *Config) error {
	data, err := c.HFJSON()
	if err != nil {
		return err
	}
	return fileio.WriteFile(filepath.Join(dir, ConfigFileName), data)
}
