// Package results holds the plain data types that gominitron's operations
// produce and that plots, notebooks and the CLI consume: importance scores,
// training metrics, evaluation numbers, throughput rows, architecture-search
// candidates and prune-plan summaries.
//
// The package has no dependency on GoMLX (plots and notebooks can load results
// without a backend). Every type is a struct with JSON tags; files are written
// atomically (temporary file in the same directory, then rename) by SaveJSON
// and read by LoadJSON (which refuses unknown keys, naming them);
// LoadImportance is the one loader of importance files. Training metrics
// are JSON Lines (one TrainStep per line), read by ReadTrainLog and written
// by TrainLogWriter.
//
// Dimension legend used in comments: numLayers (decoder layers), numHeads
// (query heads), ffn (MLP intermediate size), hidden (model width).
package results
