package llm

import "fmt"

// Hugging Face tensor names of a Llama-family checkpoint.
const (
	EmbedTokensName = "model.embed_tokens.weight" // [vocab, hidden]
	FinalNormName   = "model.norm.weight"         // [hidden]
	LMHeadName      = "lm_head.weight"            // [vocab, hidden]; absent when embeddings are tied
)

// LayerPrefix is the HF name prefix of decoder layer l ("model.layers.3.").
func LayerPrefix(l int) string { return fmt.Sprintf("model.layers.%d.", l) }

// HasOProjBias reports whether o_proj has a bias: llama with attention_bias
// (q/k/v/o all have one); qwen2 has q/k/v biases only, mistral none.
func (c *Config) HasOProjBias() bool { return c.AttentionBias && c.ModelType == "llama" }

// TensorNames lists every tensor the checkpoint must hold, in module order
// (embeddings, then each layer's attention and MLP, final norm, lm_head),
// which is also the order SaveModel writes them in.
func (c *Config) TensorNames() []string {
	names := []string{EmbedTokensName}
	for l := range c.NumLayers {
		p := LayerPrefix(l)
		names = append(names, p+"input_layernorm.weight")
		for _, proj := range []string{"q_proj", "k_proj", "v_proj"} {
			names = append(names, p+"self_attn."+proj+".weight")
			if c.AttentionBias {
				names = append(names, p+"self_attn."+proj+".bias")
			}
		}
		names = append(names, p+"self_attn.o_proj.weight")
		if c.HasOProjBias() {
			names = append(names, p+"self_attn.o_proj.bias")
		}
		names = append(names, p+"post_attention_layernorm.weight")
		for _, proj := range []string{"gate_proj", "up_proj", "down_proj"} {
			names = append(names, p+"mlp."+proj+".weight")
			if c.MLPBias {
				names = append(names, p+"mlp."+proj+".bias")
			}
		}
	}
	names = append(names, FinalNormName)
	if !c.TieEmbeddings {
		names = append(names, LMHeadName)
	}
	return names
}

// TensorShapes maps every HF tensor name the checkpoint must hold to its
// shape (PyTorch layout: Linear weights are [out, in]). lm_head.weight is
// absent when embeddings are tied; biases are present only when enabled.
func (c *Config) TensorShapes() map[string][]int {
	q, kv := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	shapes := make(map[string][]int, 3+c.NumLayers*16)
	shapes[EmbedTokensName] = []int{c.VocabSize, c.Hidden}
	shapes[FinalNormName] = []int{c.Hidden}
	if !c.TieEmbeddings {
		shapes[LMHeadName] = []int{c.VocabSize, c.Hidden}
	}
	for l := range c.NumLayers {
		p := LayerPrefix(l)
		shapes[p+"input_layernorm.weight"] = []int{c.Hidden}
		shapes[p+"post_attention_layernorm.weight"] = []int{c.Hidden}
		shapes[p+"self_attn.q_proj.weight"] = []int{q, c.Hidden}  // [numHeads*headDim, hidden]
		shapes[p+"self_attn.k_proj.weight"] = []int{kv, c.Hidden} // [numKVHeads*headDim, hidden]
		shapes[p+"self_attn.v_proj.weight"] = []int{kv, c.Hidden} // [numKVHeads*headDim, hidden]
		shapes[p+"self_attn.o_proj.weight"] = []int{c.Hidden, q}  // [hidden, numHeads*headDim]
		shapes[p+"mlp.gate_proj.weight"] = []int{c.FFN, c.Hidden} // [ffn, hidden]
		shapes[p+"mlp.up_proj.weight"] = []int{c.FFN, c.Hidden}   // [ffn, hidden]
		shapes[p+"mlp.down_proj.weight"] = []int{c.Hidden, c.FFN} // [hidden, ffn]
		if c.AttentionBias {
			shapes[p+"self_attn.q_proj.bias"] = []int{q}
			shapes[p+"self_attn.k_proj.bias"] = []int{kv}
			shapes[p+"self_attn.v_proj.bias"] = []int{kv}
		}
		if c.HasOProjBias() {
			shapes[p+"self_attn.o_proj.bias"] = []int{c.Hidden}
		}
		if c.MLPBias {
			shapes[p+"mlp.gate_proj.bias"] = []int{c.FFN}
			shapes[p+"mlp.up_proj.bias"] = []int{c.FFN}
			shapes[p+"mlp.down_proj.bias"] = []int{c.Hidden}
		}
	}
	return shapes
}
