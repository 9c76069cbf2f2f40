// Package importance scores every prunable axis of a Llama-family model in
// one forward-only pass over calibration batches, the Minitron way (see
// docs/importance.md and docs/method.md, "Importance from activations"):
//
//   - FFN neurons: the input of down_proj (silu(gate)·up), per layer;
//   - attention heads: the input of o_proj, per channel, then the L2 norm over
//     the head's headDim channels; GQA-aware rankings within each KV group;
//   - hidden channels: the outputs of every input_layernorm and
//     post_attention_layernorm, summed over layers;
//   - layers: Block Influence (mean over tokens of 1 − cos(residual in,
//     residual out)), and by ablation: LM loss with each layer removed and
//     with every contiguous block of k layers removed (or any other scoring
//     function of the skipped layers, e.g. a downstream accuracy).
//
// For an activation A[batchSize, seqLen, c] the sequence axis is reduced first
// (mean of |A|, L2, or variance over the valid positions of each sequence) to
// x[batchSize, c], then the batch axis across all calibration batches (L2,
// mean or variance over sequences). The per-batch reductions run inside the
// compiled graph in float32; the cross-batch accumulation runs on the host in
// float64 (exact merging of variances with Chan's formula), so memory does
// not grow with the number of batches and no activation is ever kept.
//
// Rank stability: batches are dealt round-robin into K disjoint parts that
// are accumulated separately during the same pass (no extra forward cost),
// and the Spearman rank correlation of every axis is reported between parts.
// Spearman and KendallTau (τ-b) are the rank correlations, for any two score
// vectors.
package importance
