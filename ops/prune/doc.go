// Package prune performs Minitron-style structured pruning of a Llama-family
// model (llama, mistral, qwen2) from importance scores: a Plan names the
// target sizes (hidden, FFN, query heads per KV group) and the depth (a number
// of layers chosen by a layer score, an explicit list, or the best contiguous
// block), Apply cuts every weight accordingly and returns a new model with its
// config, and Export writes it as a standard Hugging Face folder (config.json
// in the classic hub form with head_dim explicit, safetensors) plus a
// pruning.json lineage record.
//
// Sizes are homogeneous (every layer gets the same FFN width and heads), but
// each layer keeps its own best indices; hidden channels are chosen once,
// globally. head_dim is never cut (RoPE rotates within a head), so a pruned
// model may have numHeads·headDim ≠ hidden.
//
// Without touching any weight, Plan.Estimate gives the parameter count,
// weight bytes and KV-cache bytes per token of a plan (microseconds, for a
// notebook slider), and MaskedView gives the 0/1 masks and skipped layers
// that emulate the plan on the unpruned model through llm.ForwardOptions.
// PlanParams counts a plan's parameters; WidthPlan finds the balanced
// hidden/FFN cut closest to a parameter budget, DepthPlan the layer-count
// plan, and EnumerateShapes lists every (layers, heads, hidden, FFN) plan
// within ±tolerance of a budget on the WidthGrid (P1's search space).
//
// Tensor surgery (docs/method.md, "Cutting a Llama block"), with kept hidden
// channels H, kept FFN neurons F and kept query heads Q of a layer:
//
//	embed_tokens, lm_head [vocab, hidden]           columns H
//	every RMSNorm weight [hidden]                   H
//	q_proj [numHeads·headDim, hidden] (+bias)       row blocks Q, columns H
//	k_proj, v_proj [numKVHeads·headDim, hidden]     columns H (KV groups kept)
//	o_proj [hidden, numHeads·headDim] (+bias)       rows H, column blocks Q
//	gate_proj, up_proj [ffn, hidden] (+bias)        rows F, columns H
//	down_proj [hidden, ffn] (+bias)                 rows H, columns F
package prune
