package llm

// Config is the architecture of a Llama-family decoder, parsed from a Hugging
// Face config.json (see ParseConfig / LoadConfig) and written back with
// Config.HF / SaveConfig in the classic hub form with head_dim explicit.
type Config struct {
	ModelType        string   // "llama", "mistral" or "qwen2"
	Architectures    []string // e.g. ["LlamaForCausalLM"]
	VocabSize        int
	Hidden           int // hidden_size
	FFN              int // intermediate_size
	NumLayers        int // num_hidden_layers
	NumHeads         int // num_attention_heads
	NumKVHeads       int // num_key_value_heads
	HeadDim          int // head_dim (explicit; defaults to Hidden/NumHeads)
	MaxPositions     int // max_position_embeddings
	RMSNormEps       float64
	TieEmbeddings    bool   // tie_word_embeddings: lm_head shares embed_tokens
	AttentionBias    bool   // q/k/v projections have biases (always for qwen2)
	MLPBias          bool   // gate/up/down have biases (mlp_bias; rare)
	HiddenAct        string // only "silu" is supported
	RopeTheta        float64
	Rope             RopeScaling
	TorchDType       string // torch_dtype / dtype on disk: "float32", "bfloat16", "float16"
	BOSTokenID       *int
	EOSTokenIDs      []int // eos_token_id may be an int or a list in HF configs
	PadTokenID       *int
	InitializerRange float64

	// Extra holds config.json keys this package does not interpret; they are
	// written back unchanged so exports stay faithful to the source model.
	Extra map[string]any
}

// RopeScaling is the rope_scaling / rope_parameters block. Type is "default"
// (no scaling) or "llama3"; anything else is rejected at parse time.
type RopeScaling struct {
	Type                          string  // "default" or "llama3"
	Factor                        float64 // llama3: factor
	LowFreqFactor                 float64 // llama3: low_freq_factor
	HighFreqFactor                float64 // llama3: high_freq_factor
	OriginalMaxPositionEmbeddings int     // llama3: original_max_position_embeddings
}
