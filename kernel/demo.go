package kernel

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/interactive"
	"github.com/gominitron/gominitron/results"
)

// The set-up of notebooks 00–05. Their first cell is
//
//	d, b := kernel.Setup()
//
// and every later cell starts with d, b := kernel.Open(). Errors stop the
// cell with a readable message (see Check).

// Setup shows the backend banner, opens the demo (see Open) and prints its
// notes and model: the first cell of a notebook.
func Setup() (*interactive.Demo, compute.Backend) {
	b := Must(Banner())
	d := Demo()
	for _, n := range d.Notes {
		fmt.Fprintln(Out, n)
	}
	fmt.Fprintf(Out, "model: %s (%s)\n", inCheckout(d, d.ModelDir), d.Model.Config.ModelType)
	return d, b
}

// Open returns the demo and the backend without the banner (Setup showed
// it): the first line of every later cell.
func Open() (*interactive.Demo, compute.Backend) { return Demo(), Backend() }

// Demo opens the demo teacher (models/demo-teacher), or a fixture model when
// it is absent, with its corpus packed into train/val token splits (the
// Brown corpus is fetched unless the scale is smoke).
func Demo() *interactive.Demo {
	return Must(interactive.OpenDemo(interactive.DemoOptions{FetchCorpus: Scale() != "smoke"}))
}

// Backend returns the process-wide backend without a banner (Banner
// already said which).
func Backend() compute.Backend {
	backend.Log = io.Discard
	return Must(backend.New())
}

// SeqLen is the notebooks' sequence length at this scale (32, 128, 256),
// at most the model's context.
func SeqLen(d *interactive.Demo) int { return min(Pick(32, 128, 256), d.Model.Config.MaxPositions) }

// Scores runs the demo's importance pass once (cached under
// out/notebooks-data and shared by every notebook; sizes by scale: 8/128/1024
// samples of SeqLen tokens, block sweep of interactive.SweepBlockSize layers,
// 2/4/4 stability parts, seed 1), showing progress when it runs, and returns
// the scores and their file.
func Scores(d *interactive.Demo, b compute.Backend) (*results.Importance, string) {
	var prog *Progress // shown only when the pass runs (not when cached)
	imp, path, err := d.Importance(b, interactive.ImportanceOptions{
		Samples: Pick(8, 128, 1024), SeqLen: SeqLen(d), BatchSize: Pick(2, 8, 16),
		BlockSize: interactive.SweepBlockSize(d.Model.Config.NumLayers), Parts: Pick(2, 4, 4), Seed: 1,
		Progress: func(stage string, done, total int) {
			if prog == nil {
				prog = NewProgress("importance")
			}
			prog.Stage(stage, done, total)
		}})
	Check(err)
	if prog != nil {
		prog.Finish(fmt.Sprintf("%d calibration samples × %d tokens in %.1fs", imp.Samples, imp.SeqLen, imp.DurationSec))
	}
	fmt.Fprintf(Out, "importance scores: %s\n", inCheckout(d, path))
	return imp, path
}

// FreshOut returns the folder out/notebooks/NAME of the demo's checkout for
// a notebook to write into: what an earlier run left there is removed and
// the parent folders are created, so the notebook runs alone, in any order.
func FreshOut(d *interactive.Demo, name string) string {
	dir := d.Out(filepath.Join("notebooks", name))
	Check(os.RemoveAll(dir))
	Check(os.MkdirAll(filepath.Dir(dir), 0o755))
	return dir
}

// inCheckout writes path relative to the demo's checkout when it is inside
// it (out/notebooks-data/…), so that outputs read the same on every machine.
func inCheckout(d *interactive.Demo, path string) string {
	if rel, err := filepath.Rel(d.Root, path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return path
}
