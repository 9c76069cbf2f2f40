package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gominitron/gominitron/internal/fileio"
)

// ConfigFileName is the Hugging Face config file inside a model folder.
const ConfigFileName = "config.json"

// SupportedModelTypes are the config.json model_type values ParseConfig accepts.
var SupportedModelTypes = []string{"llama", "mistral", "qwen2"}

// SupportedRopeTypes are the rope_type values ParseConfig accepts.
var SupportedRopeTypes = []string{"default", "llama3"}

// modelDefaults are transformers' defaults for keys a config.json may omit
// (LlamaConfig, MistralConfig, Qwen2Config __init__ arguments).
type modelDefaults struct {
	architecture   string
	numKVHeads     int // -1: num_attention_heads
	maxPositions   int
	bos, eos       *int
	slidingWindow  *int // mistral: used when the key is absent
	hasBiasOptions bool // attention_bias / mlp_bias are config options (llama)
}

func intPtr(v int) *int { return &v }

var defaultsByModelType = map[string]modelDefaults{
	"llama":   {architecture: "LlamaForCausalLM", numKVHeads: -1, maxPositions: 2048, bos: intPtr(1), eos: intPtr(2), hasBiasOptions: true},
	"mistral": {architecture: "MistralForCausalLM", numKVHeads: 8, maxPositions: 4096 * 32, bos: intPtr(1), eos: intPtr(2), slidingWindow: intPtr(4096)},
	"qwen2":   {architecture: "Qwen2ForCausalLM", numKVHeads: 32, maxPositions: 32768},
}

// Defaults shared by the three model types.
const (
	defaultRMSNormEps       = 1e-6
	defaultRopeTheta        = 10000.0
	defaultInitializerRange = 0.02
	defaultMaxWindowLayers  = 28 // qwen2
)

// Sanity limits on sizes, far above any real model: a corrupt config must not
// make TensorShapes or Params allocate or overflow.
const (
	maxLayers   = 4096
	maxModelDim = 1 << 26
	maxParams   = 1 << 50 // ~1.1e15, a thousand times the largest published models
)

// formatCount prints a saturated count as "more than 9.2e18".
func formatCount(n int64) string {
	if n == math.MaxInt64 {
		return "more than 9.2e18"
	}
	return strconv.FormatInt(n, 10)
}

func maxDim(key string) int {
	if key == "num_hidden_layers" {
		return maxLayers
	}
	return maxModelDim
}

// unsupportedKeys are config keys that mean an architecture this package
// cannot compute; present with a non-null, non-zero value they are an error.
var unsupportedKeys = map[string]string{
	"num_experts":                     "mixture-of-experts models are not supported",
	"num_local_experts":               "mixture-of-experts models are not supported",
	"num_experts_per_tok":             "mixture-of-experts models are not supported",
	"moe_intermediate_size":           "mixture-of-experts models are not supported",
	"shared_expert_intermediate_size": "mixture-of-experts models are not supported",
	"n_routed_experts":                "mixture-of-experts models are not supported",
	"quantization_config":             "quantized checkpoints are not supported",
}

// ropeKeys are the keys a rope_scaling / rope_parameters block may hold.
var ropeKeys = map[string]bool{
	"rope_type": true, "type": true, "rope_theta": true, "factor": true, "low_freq_factor": true,
	"high_freq_factor": true, "original_max_position_embeddings": true, "partial_rotary_factor": true,
}

// ParseConfig parses a Hugging Face config.json (model_type llama, mistral or
// qwen2) in either the classic hub form (rope_theta + rope_scaling) or the
// transformers-5 form (rope_parameters). Keys it does not interpret are kept
// in Config.Extra. Anything that would make this package compute something
// other than transformers does (active sliding window, rope types other than
// default/llama3, mixture of experts, an activation other than silu, ...) is
// an error naming the field.
func ParseConfig(data []byte) (*Config, error) {
	c, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("llm: config.json: %w", err)
	}
	return c, nil
}

// LoadConfig reads and parses dir/config.json.
func LoadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, ConfigFileName)
	data, err := fileio.ReadRegular(path, fileio.MaxSideFileBytes)
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	c, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("llm: %s: %w", path, err)
	}
	return c, nil
}

// rawConfig is a decoded JSON object whose keys are consumed as they are read;
// what is left at the end goes to Config.Extra.
type rawConfig map[string]any

func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if m == nil {
		return nil, errors.New("invalid JSON: not an object")
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return nil, errors.New("invalid JSON: data after the top-level object")
	}
	return m, nil
}

// take removes key and returns its value; null counts as absent.
func (r rawConfig) take(key string) (any, bool) {
	v, ok := r[key]
	delete(r, key)
	return v, ok && v != nil
}

func asInt(key string, v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: must be an integer, got %s", key, describe(v))
	}
	i, err := n.Int64()
	if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
		// Accept integral floats such as 64.0 (Python may write them).
		f, ferr := n.Float64()
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
			return 0, fmt.Errorf("%s: must be an integer, got %s", key, n)
		}
		i = int64(f)
	}
	return int(i), nil
}

func asFloat(key string, v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s: must be a number, got %s", key, describe(v))
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s: must be a finite number, got %s", key, n)
	}
	return f, nil
}

func describe(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		b = append(b[:37], "..."...)
	}
	return string(b)
}

func (r rawConfig) requiredInt(key string) (int, error) {
	v, ok := r.take(key)
	if !ok {
		return 0, fmt.Errorf("%s: missing (required)", key)
	}
	return asInt(key, v)
}

func (r rawConfig) optInt(key string, def int) (int, error) {
	v, ok := r.take(key)
	if !ok {
		return def, nil
	}
	return asInt(key, v)
}

func (r rawConfig) optFloat(key string, def float64) (float64, error) {
	v, ok := r.take(key)
	if !ok {
		return def, nil
	}
	return asFloat(key, v)
}

func (r rawConfig) optBool(key string, def bool) (bool, error) {
	v, ok := r.take(key)
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, fmt.Errorf("%s: must be true or false, got %s", key, describe(v))
	}
	return b, nil
}

func (r rawConfig) optString(key, def string) (string, error) {
	v, ok := r.take(key)
	if !ok {
		return def, nil
	}
	s, isString := v.(string)
	if !isString {
		return "", fmt.Errorf("%s: must be a string, got %s", key, describe(v))
	}
	return s, nil
}

// tokenID reads bos/pad ids: absent → def, null → nil, int → the id.
func (r rawConfig) tokenID(key string, def *int) (*int, error) {
	v, present := r[key]
	delete(r, key)
	if !present {
		return def, nil
	}
	if v == nil {
		return nil, nil
	}
	i, err := asInt(key, v)
	if err != nil {
		return nil, err
	}
	return &i, nil
}

func parseConfig(data []byte) (*Config, error) {
	obj, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	r := rawConfig(obj)
	c := &Config{}

	if c.ModelType, err = r.optString("model_type", ""); err != nil {
		return nil, err
	}
	defs, ok := defaultsByModelType[c.ModelType]
	if !ok {
		return nil, fmt.Errorf("model_type: %q is not supported (supported: %s)", c.ModelType, strings.Join(SupportedModelTypes, ", "))
	}
	for key, why := range unsupportedKeys {
		if v, ok := r[key]; ok && v != nil && v != json.Number("0") && v != false {
			return nil, fmt.Errorf("%s: %s", key, why)
		}
	}
	if v, ok := r.take("architectures"); ok {
		list, isList := v.([]any)
		if !isList {
			return nil, fmt.Errorf("architectures: must be a list of strings, got %s", describe(v))
		}
		c.Architectures = []string{}
		for _, a := range list {
			s, isString := a.(string)
			if !isString {
				return nil, fmt.Errorf("architectures: must be a list of strings, got %s", describe(v))
			}
			c.Architectures = append(c.Architectures, s)
		}
	} else {
		c.Architectures = []string{defs.architecture}
	}

	for _, f := range []struct {
		key string
		dst *int
	}{
		{"vocab_size", &c.VocabSize}, {"hidden_size", &c.Hidden}, {"intermediate_size", &c.FFN},
		{"num_hidden_layers", &c.NumLayers}, {"num_attention_heads", &c.NumHeads},
	} {
		if *f.dst, err = r.requiredInt(f.key); err != nil {
			return nil, err
		}
		if *f.dst <= 0 {
			return nil, fmt.Errorf("%s: must be positive, got %d", f.key, *f.dst)
		}
		if limit := maxDim(f.key); *f.dst > limit {
			return nil, fmt.Errorf("%s: %d is implausibly large (limit %d; corrupt config?)", f.key, *f.dst, limit)
		}
	}
	kvDefault := defs.numKVHeads
	if kvDefault < 0 {
		kvDefault = c.NumHeads
	}
	if c.NumKVHeads, err = r.optInt("num_key_value_heads", kvDefault); err != nil {
		return nil, err
	}
	if c.NumKVHeads <= 0 || c.NumHeads%c.NumKVHeads != 0 {
		return nil, fmt.Errorf("num_key_value_heads: %d must be positive and divide num_attention_heads=%d", c.NumKVHeads, c.NumHeads)
	}
	if c.HeadDim, err = r.optInt("head_dim", c.Hidden/c.NumHeads); err != nil {
		return nil, err
	}
	if c.HeadDim > maxDim("head_dim") {
		return nil, fmt.Errorf("head_dim: %d is implausibly large (limit %d; corrupt config?)", c.HeadDim, maxDim("head_dim"))
	}
	if c.HeadDim <= 0 || c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("head_dim: %d must be positive and even (rotary embeddings rotate pairs)", c.HeadDim)
	}
	if c.MaxPositions, err = r.optInt("max_position_embeddings", defs.maxPositions); err != nil {
		return nil, err
	}
	if c.MaxPositions <= 0 {
		return nil, fmt.Errorf("max_position_embeddings: must be positive, got %d", c.MaxPositions)
	}
	if c.RMSNormEps, err = r.optFloat("rms_norm_eps", defaultRMSNormEps); err != nil {
		return nil, err
	}
	if c.RMSNormEps <= 0 {
		return nil, fmt.Errorf("rms_norm_eps: must be positive, got %g", c.RMSNormEps)
	}
	if c.InitializerRange, err = r.optFloat("initializer_range", defaultInitializerRange); err != nil {
		return nil, err
	}
	if c.TieEmbeddings, err = r.optBool("tie_word_embeddings", false); err != nil {
		return nil, err
	}
	if c.HiddenAct, err = r.optString("hidden_act", "silu"); err != nil {
		return nil, err
	}
	if c.HiddenAct != "silu" {
		return nil, fmt.Errorf("hidden_act: %q is not supported (only silu)", c.HiddenAct)
	}
	switch {
	case defs.hasBiasOptions:
		if c.AttentionBias, err = r.optBool("attention_bias", false); err != nil {
			return nil, err
		}
		if c.MLPBias, err = r.optBool("mlp_bias", false); err != nil {
			return nil, err
		}
	case c.ModelType == "qwen2":
		c.AttentionBias = true // Qwen2Attention: q/k/v always have a bias, o_proj never
	}
	// mistral/qwen2 ignore attention_bias/mlp_bias keys (transformers does too): they stay in Extra.

	if err := parseSlidingWindow(r, c, defs); err != nil {
		return nil, err
	}
	if err := parseRope(r, c); err != nil {
		return nil, err
	}
	if err := parseDType(r, c); err != nil {
		return nil, err
	}
	if c.BOSTokenID, err = r.tokenID("bos_token_id", defs.bos); err != nil {
		return nil, err
	}
	if c.PadTokenID, err = r.tokenID("pad_token_id", nil); err != nil {
		return nil, err
	}
	if err := parseEOS(r, c, defs); err != nil {
		return nil, err
	}
	if p := c.Params().Total; p > maxParams {
		return nil, fmt.Errorf("the sizes give %s parameters, implausibly many (limit %d; corrupt config?)", formatCount(p), int64(maxParams))
	}
	if len(r) > 0 {
		c.Extra = map[string]any(r)
	}
	return c, nil
}

// parseSlidingWindow accepts sliding-window settings only when they cannot
// change any result: the window must not be shorter than
// max_position_embeddings (mistral), or be switched off (qwen2:
// use_sliding_window false, or no layer index ≥ max_window_layers), and
// layer_types, when given, must be all "full_attention".
func parseSlidingWindow(r rawConfig, c *Config, defs modelDefaults) error {
	if v, ok := r.take("layer_types"); ok {
		list, isList := v.([]any)
		if !isList {
			return fmt.Errorf("layer_types: must be a list, got %s", describe(v))
		}
		if len(list) != c.NumLayers {
			return fmt.Errorf("layer_types: has %d entries for num_hidden_layers=%d", len(list), c.NumLayers)
		}
		for i, t := range list {
			if t != "full_attention" {
				return fmt.Errorf("layer_types[%d]: %s is not supported (only \"full_attention\"; sliding-window attention is not implemented)", i, describe(t))
			}
		}
	}
	if c.ModelType == "llama" {
		return nil // LlamaModel has no sliding window; a stray sliding_window key stays in Extra
	}
	window := defs.slidingWindow
	if v, present := r["sliding_window"]; present {
		window = nil
		if v != nil {
			w, err := asInt("sliding_window", v)
			if err != nil {
				return err
			}
			window = &w
		}
	}
	delete(r, "sliding_window")
	active := window != nil && *window < c.MaxPositions
	if c.ModelType == "qwen2" {
		use, err := r.optBool("use_sliding_window", false)
		if err != nil {
			return err
		}
		maxWindowLayers := defaultMaxWindowLayers
		if v, ok := r["max_window_layers"]; ok && v != nil { // kept in Extra: harmless when inactive
			if maxWindowLayers, err = asInt("max_window_layers", v); err != nil {
				return err
			}
		}
		active = active && use && c.NumLayers > maxWindowLayers
		if active {
			return fmt.Errorf("use_sliding_window: true with sliding_window=%d < max_position_embeddings=%d on layers ≥ max_window_layers=%d: sliding-window attention is not supported",
				*window, c.MaxPositions, maxWindowLayers)
		}
		return nil
	}
	if active {
		return fmt.Errorf("sliding_window: %d < max_position_embeddings=%d: sliding-window attention is not supported (set it to null, or ≥ max_position_embeddings, if the model never attends further than the window)",
			*window, c.MaxPositions)
	}
	return nil
}

// parseRope reads rope_theta + rope_scaling (classic) or rope_parameters
// (transformers 5).
func parseRope(r rawConfig, c *Config) error {
	scaling, hasScaling := r.take("rope_scaling")
	params, hasParams := r.take("rope_parameters")
	theta, hasTheta := r.take("rope_theta")
	if hasScaling && hasParams {
		return errors.New("rope_scaling and rope_parameters: both given; use one form")
	}
	block, blockName := scaling, "rope_scaling"
	if hasParams {
		block, blockName = params, "rope_parameters"
	}
	c.RopeTheta = defaultRopeTheta
	if hasTheta {
		var err error
		if c.RopeTheta, err = asFloat("rope_theta", theta); err != nil {
			return err
		}
	}
	if v, ok := r.take("partial_rotary_factor"); ok {
		if f, err := asFloat("partial_rotary_factor", v); err != nil || f != 1 {
			return fmt.Errorf("partial_rotary_factor: %s is not supported (only 1)", describe(v))
		}
	}
	c.Rope = RopeScaling{Type: "default"}
	if block != nil {
		m, isMap := block.(map[string]any)
		if !isMap {
			return fmt.Errorf("%s: must be an object or null, got %s", blockName, describe(block))
		}
		for k := range m {
			if !ropeKeys[k] || (k == "rope_theta" && blockName == "rope_scaling") {
				return fmt.Errorf("%s.%s: unknown rotary-embedding parameter", blockName, k)
			}
		}
		b := rawConfig(m)
		rt, err := b.optString("rope_type", "")
		if err != nil {
			return fmt.Errorf("%s.%w", blockName, err)
		}
		legacy, err := b.optString("type", "")
		if err != nil {
			return fmt.Errorf("%s.%w", blockName, err)
		}
		if rt == "" {
			rt = legacy
		} else if legacy != "" && legacy != rt {
			return fmt.Errorf("%s.type %q disagrees with %s.rope_type %q", blockName, legacy, blockName, rt)
		}
		if rt == "" {
			rt = "default"
		}
		if rt != "default" && rt != "llama3" {
			return fmt.Errorf("%s.rope_type: %q is not supported (supported: %s)", blockName, rt, strings.Join(SupportedRopeTypes, ", "))
		}
		if v, ok := b.take("partial_rotary_factor"); ok {
			if f, err := asFloat("partial_rotary_factor", v); err != nil || f != 1 {
				return fmt.Errorf("%s.partial_rotary_factor: %s is not supported (only 1)", blockName, describe(v))
			}
		}
		if v, ok := b.take("rope_theta"); ok {
			t, err := asFloat(blockName+".rope_theta", v)
			if err != nil {
				return err
			}
			if hasTheta && t != c.RopeTheta {
				return fmt.Errorf("rope_theta %g and %s.rope_theta %g disagree", c.RopeTheta, blockName, t)
			}
			c.RopeTheta = t
		}
		c.Rope.Type = rt
		if rt == "llama3" {
			if err := parseLlama3(b, blockName, &c.Rope); err != nil {
				return err
			}
		}
	}
	if c.RopeTheta <= 0 {
		return fmt.Errorf("rope_theta: must be positive, got %g", c.RopeTheta)
	}
	return nil
}

func parseLlama3(b rawConfig, blockName string, rs *RopeScaling) error {
	for _, f := range []struct {
		key string
		dst *float64
	}{{"factor", &rs.Factor}, {"low_freq_factor", &rs.LowFreqFactor}, {"high_freq_factor", &rs.HighFreqFactor}} {
		v, ok := b.take(f.key)
		if !ok {
			return fmt.Errorf("%s.%s: missing (required for rope_type llama3)", blockName, f.key)
		}
		var err error
		if *f.dst, err = asFloat(blockName+"."+f.key, v); err != nil {
			return err
		}
		if *f.dst <= 0 {
			return fmt.Errorf("%s.%s: must be positive, got %g", blockName, f.key, *f.dst)
		}
	}
	v, ok := b.take("original_max_position_embeddings")
	if !ok {
		return fmt.Errorf("%s.original_max_position_embeddings: missing (required for rope_type llama3)", blockName)
	}
	var err error
	if rs.OriginalMaxPositionEmbeddings, err = asInt(blockName+".original_max_position_embeddings", v); err != nil {
		return err
	}
	if rs.OriginalMaxPositionEmbeddings <= 0 {
		return fmt.Errorf("%s.original_max_position_embeddings: must be positive, got %d", blockName, rs.OriginalMaxPositionEmbeddings)
	}
	if rs.HighFreqFactor <= rs.LowFreqFactor {
		return fmt.Errorf("%s.high_freq_factor %g must be greater than low_freq_factor %g", blockName, rs.HighFreqFactor, rs.LowFreqFactor)
	}
	return nil
}

// torchDTypes are the on-disk dtypes accepted in torch_dtype / dtype.
var torchDTypes = map[string]bool{"float32": true, "bfloat16": true, "float16": true}

func parseDType(r rawConfig, c *Config) error {
	classic, err := r.optString("torch_dtype", "")
	if err != nil {
		return err
	}
	modern, err := r.optString("dtype", "")
	if err != nil {
		return err
	}
	key, v := "torch_dtype", classic
	if modern != "" {
		key, v = "dtype", modern
	}
	v = strings.TrimPrefix(v, "torch.")
	if v != "" && !torchDTypes[v] {
		return fmt.Errorf("%s: %q is not supported (float32, bfloat16, float16)", key, v)
	}
	c.TorchDType = v
	return nil
}

func parseEOS(r rawConfig, c *Config, defs modelDefaults) error {
	v, present := r["eos_token_id"]
	delete(r, "eos_token_id")
	switch {
	case !present:
		if defs.eos != nil {
			c.EOSTokenIDs = []int{*defs.eos}
		}
	case v == nil:
	default:
		if list, isList := v.([]any); isList {
			for _, e := range list {
				id, err := asInt("eos_token_id", e)
				if err != nil {
					return err
				}
				c.EOSTokenIDs = append(c.EOSTokenIDs, id)
			}
			return nil
		}
		id, err := asInt("eos_token_id", v)
		if err != nil {
			return err
		}
		c.EOSTokenIDs = []int{id}
	}
	return nil
}
