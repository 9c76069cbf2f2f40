// Package reproduce runs the Minitron papers' ablations end to end on a small
// teacher with gominitron's own operations (importance → prune → distill →
// evaluate), and the architecture search. It is an application on top of the
// ops packages, not an op.
//
// Each experiment is one function on an Env (the papers' Aggregation,
// WidthVsDepth, KDvsCE, Iterative, DepthChoice, Scratch, FamilyChain,
// Search; the blog's TeacherCorrection, DepthLosses, SDGvsKD, LayerCurves,
// Throughput) returning a
// Report: a markdown table, the paper's claim, the verdict with its numbers,
// every run's curve (results.Run) and the raw per-seed numbers in an
// experiment-specific *Result type (Report.Details). Save writes
// DIR/<experiment>/table.md, result.json and PNG plots. The registry (run.go)
// maps each name to its function and its judge.
//
// Every experiment is repeated over Sizes.Seeds seeds: a seed sets the
// calibration draw, the training data order and the initialization of
// random-init students; the validation batches and the next-sentence task
// are fixed. A judge turns the per-seed numbers into the table and the
// verdict, always through one rule, Lower or Higher (at least MinSeeds
// seeds, every seed agreeing, mean paired difference above SeparationSE
// standard errors; throughput's repeats are its interleaved rounds).
// Judges read only Report.Details and Report.Runs, so Regenerate re-judges
// stored result.json files without training (`gominitron reproduce report`).
//
// Sizes (calibration samples, distillation steps, batch, seeds, …) come from
// the scale: smoke (seconds, CI, one seed), cpu (3 seeds; hours on 2
// cores), gpu (an H100).
//
// Loss numbers are the student's next-token LM loss (nats) on fixed
// validation batches of the token file's val split, so runs with different
// objectives (KL distillation, CE retraining, from scratch) compare on one
// metric. Downstream accuracy is an offline next-sentence multiple-choice
// task built from the held-out documents of the corpus
// (evaluate.BuildNextSentenceTask).
package reproduce
