// Package plots draws gominitron's figures with gonum/plot from the plain
// result types of package results: layer importance (LM loss per dropped
// layer and Block Influence), contiguous-block scores, importance heatmaps
// with a plan's cut line, rank stability, training/distillation curves,
// throughput bars and parameters-vs-loss scatters.
//
// Every figure function validates its input (empty, ragged, NaN or infinite
// data → error naming the field) and returns a *plot.Plot; display is
// separate: PNG and SVG return bytes (for a notebook cell or a file), Save
// writes a file atomically by extension. The package imports no GoMLX, so its
// tests need no backend.
package plots
