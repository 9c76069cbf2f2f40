// Package interactive is the computation behind the notebook's pruning
// sliders (notebooks/05-interactive-pruning.ipynb, kernel/sliders.go): for a
// candidate prune.Plan it returns, within about a second on a CPU, the
// target shape, parameter count, weight and KV-cache bytes (prune.Estimate,
// microseconds) and the quick quality of the plan on a held-out batch: the
// next-token LM loss of the masked model and the KL divergence of its
// next-token distribution from the full model's.
//
// The quality numbers come from prune.MaskedView in its dense form: the
// plan's FFN, head, hidden and layer masks are inputs of ONE compiled graph
// (the unpruned model's forward pass), so moving a slider costs one forward
// pass over the held-out batch and never a recompilation
// (Explorer.Compilations stays 1). The masked model's logits equal the
// pruned model's (tested in ops/prune), so the loss shown is the loss the
// materialized model will have before any retraining.
//
// Materialize turns the chosen plan into a Hugging Face folder
// (prune.Apply + prune.Export, with pruning.json lineage).
package interactive
