package llm

import "github.com/gomlx/compute/dtypes"

// ParamCount is the number of parameters of a model with a given Config,
// broken down by component. Embedding counts embed_tokens plus an untied
// lm_head; NonEmbedding is everything else (attention, MLP, RMSNorms).
type ParamCount struct {
	Total        int64 `json:"total"`
	NonEmbedding int64 `json:"non_embedding"`
	Embedding    int64 `json:"embedding"`    // EmbedTokens + LMHead
	EmbedTokens  int64 `json:"embed_tokens"` // vocab×hidden
	LMHead       int64 `json:"lm_head"`      // vocab×hidden, 0 when tied
	Attention    int64 `json:"attention"`    // q/k/v/o weights and biases, all layers
	MLP          int64 `json:"mlp"`          // gate/up/down weights and biases, all layers
	Norms        int64 `json:"norms"`        // RMSNorm weights: 2 per layer + the final norm
	PerLayer     int64 `json:"per_layer"`    // one decoder layer: attention + MLP + its 2 norms
}

// Params counts the parameters of the model described by c (exactly the
// elements of the tensors in TensorShapes). Counts saturate at
// math.MaxInt64 rather than overflow (ParseConfig refuses such configs).
func (c *Config) Params() ParamCount {
	hidden, ffn := int64(c.Hidden), int64(c.FFN)
	q, kv := satMul(int64(c.NumHeads), int64(c.HeadDim)), satMul(int64(c.NumKVHeads), int64(c.HeadDim))
	attn := satMul(satAdd(satMul(2, q), satMul(2, kv)), hidden) // q, k, v, o weights: (2q + 2kv)·hidden
	if c.AttentionBias {
		attn = satAdd(attn, satAdd(q, satMul(2, kv)))
	}
	if c.HasOProjBias() {
		attn = satAdd(attn, hidden)
	}
	mlp := satMulN(3, ffn, hidden)
	if c.MLPBias {
		mlp = satAdd(mlp, satAdd(satMul(2, ffn), hidden))
	}
	layers := int64(c.NumLayers)
	p := ParamCount{
		EmbedTokens: satMul(int64(c.VocabSize), hidden),
		Attention:   satMul(layers, attn),
		MLP:         satMul(layers, mlp),
		Norms:       satMul(2*layers+1, hidden),
		PerLayer:    satAdd(satAdd(attn, mlp), satMul(2, hidden)),
	}
	if !c.TieEmbeddings {
		p.LMHead = p.EmbedTokens
	}
	p.Embedding = satAdd(p.EmbedTokens, p.LMHead)
	p.NonEmbedding = satAdd(satAdd(p.Attention, p.MLP), p.Norms)
	p.Total = satAdd(p.Embedding, p.NonEmbedding)
	return p
}

// WeightBytes is the size of all weights stored as dtype (e.g. the
// model.safetensors data section, without its header).
func (c *Config) WeightBytes(dtype dtypes.DType) int64 {
	return satMul(c.Params().Total, int64(dtype.Size()))
}

// KVCacheBytesPerToken is the KV-cache memory one token of context costs per
// sequence: keys and values for every layer, 2 × numLayers × numKVHeads ×
// headDim elements of dtype.
func (c *Config) KVCacheBytesPerToken(dtype dtypes.DType) int64 {
	return satMulN(2, int64(c.NumLayers), int64(c.NumKVHeads), int64(c.HeadDim), int64(dtype.Size()))
}
