// Package llm is the Llama-family model (llama, mistral, qwen2 model types)
// in GoMLX: Hugging Face config.json and safetensors checkpoints in and out,
// the one check of weights against a config (CheckWeights) and the one
// weight initialisation (InitWeights, as transformers' _init_weights), a
// forward pass with named intermediate activations, KV-cache generation,
// and parameter/memory accounting.
//
// Dimension legend used in shape comments throughout the project:
//
//	batchSize   sequences in a batch
//	seqLen      tokens per sequence
//	hidden      residual stream width (hidden_size)
//	numHeads    query heads (num_attention_heads)
//	numKVHeads  key/value heads (num_key_value_heads); numHeads % numKVHeads == 0
//	headDim     per-head width (head_dim; may differ from hidden/numHeads)
//	ffn         MLP width (intermediate_size)
//	vocab       vocabulary size
//	numLayers   decoder layers (num_hidden_layers)
package llm
