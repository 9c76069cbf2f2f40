// Package train trains Llama-family models (and anything else whose loss can
// be written as a GoMLX graph) with AdamW, a warm-up + cosine learning-rate
// schedule, global-norm gradient clipping, gradient accumulation, periodic
// validation, JSON Lines metrics, atomic checkpoints and bit-exact resume.
//
// The core is generic over the loss: a Trainer owns the trainable variables
// of a model.Store (float32 master weights) and compiles one update step
// (forward, backward, clipping, AdamW) into a single graph. A LossFn builds
// the loss from the store and a batch of token ids; the LM loss (LMLoss)
// is one such function, a distillation loss (frozen teacher in the same store
// under another scope, non-trainable; extra trainable projection variables)
// is another.
//
// On top of the core: Run (the loop: schedule, validation, metrics,
// checkpoints, progress, NaN/Inf guard), Resume, SequenceLoader (packed
// sequences with seeded shuffling and a resumable position), the recipes used
// by `gominitron train` (RunRecipe) and teacher correction (Finetune), and
// a count-based bigram baseline (Bigram).
//
// Dimension legend: batchSize (sequences per micro-batch), seqLen (tokens per
// packed sequence), vocab (vocabulary size).
package train
