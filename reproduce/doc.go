// Package reproduce runs the Minitron papers' ablations end to end on a small
// teacher with gominitron's own operations (importance → prune → distill →
// evaluate), and the architecture search.
//
// Each experiment is one function on an Env (Aggregation, WidthVsDepth,
// KDvsCE, Iterative, DepthChoice, Scratch, FamilyChain, Search) returning a
// Report: a markdown table, the paper's claim, the measured ordering
// (reproduced or not, with the numbers), the curves (results.Run) and
// experiment-specific results types. Save writes DIR/<experiment>/table.md,
// result.json and PNG plots.
//
// Every experiment is seeded and deterministic for a given backend: the
// calibration windows, the training batches, the student initialization
// (for the from-scratch baseline) and the evaluation windows all derive from
// Env.Seed. Sizes (calibration samples, distillation steps, batch, …) come
// from the scale: smoke (seconds, CI), cpu (about an hour for all
// experiments on 2 cores), gpu (an H100).
//
// Loss numbers are the student's next-token LM loss (nats) on fixed
// validation batches of the token file's val split, so runs with different
// objectives (KL distillation, CE retraining, from scratch) compare on one
// metric. Downstream accuracy is an offline next-sentence multiple-choice
// task built from the held-out documents of the corpus
// (evaluate.BuildNextSentenceTask).
package reproduce
