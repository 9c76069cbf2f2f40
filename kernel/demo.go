package kernel

import (
	"fmt"
	"io"

	"github.com/gomlx/compute"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/interactive"
	"github.com/gominitron/gominitron/results"
)

// The demo helpers of notebooks 00–05: each notebook's setup cell binds them
// to short names (demo, newBackend, seqLen, blockSize, scores).

// Demo opens the demo teacher (models/demo-teacher), or a fixture model when
// it is absent, with its corpus packed into train/val token splits (the
// Brown corpus is fetched unless the scale is smoke). It panics on error.
func Demo() *interactive.Demo {
	return Must(interactive.OpenDemo(interactive.DemoOptions{FetchCorpus: Scale() != "smoke"}))
}

// Backend returns the process-wide backend without a banner (MustBanner
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
// the scores and their file. It panics on error.
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
	if err != nil {
		panic(err)
	}
	if prog != nil {
		prog.Finish(fmt.Sprintf("%d calibration samples × %d tokens in %.1fs", imp.Samples, imp.SeqLen, imp.DurationSec))
	}
	fmt.Printf("importance scores: %s\n", path)
	return imp, path
}
