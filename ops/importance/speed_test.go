package importance

import (
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/llm"
)

// speedShape reads the shape of a speed run (skipped unless
// GOMINITRON_SPEED_CONFIG is set) and builds its random model and batch.
func speedShape(t *testing.T) (fixtures.SpeedShape, *speedModel) {
	shape := fixtures.SpeedShapeFromEnv(t)
	cfg, err := llm.ParseConfig(shape.Config)
	if err != nil {
		t.Fatalf("%s: %v", shape.ConfigPath, err)
	}
	return shape, newSpeedModel(t, cfg, speedDType(t, shape.DType), shape.Batch, shape.SeqLen, shape.FusedAttention)
}

// TestSpeedForwardVsPass (scripts/gpu_check.sh, scripts/bench_cpu.sh;
// skipped unless GOMINITRON_SPEED_CONFIG is set) times, on one random batch
// of the given shape and random weights, the plain forward with logits
// against the all-axes importance pass with and without the LM loss,
// alternately, and writes tokens/s and the pass/forward ratios.
func TestSpeedForwardVsPass(t *testing.T) {
	shape, s := speedShape(t)
	noLoss, withLoss := s.passRunners(t)
	secs := fixtures.TimeRounds(t, shape.Rounds, s.forward,
		func() error { _, err := noLoss.run(s.bt); return err },
		func() error { _, err := withLoss.run(s.bt); return err })
	tokens := float64(shape.Batch * shape.SeqLen)
	backend := s.backend
	fixtures.WriteSpeedResult(t, map[string]any{
		"shape": shape.String(), "backend": backend.Name(), "device": backend.Description(),
		"forward_seconds": secs[0], "forward_tokens_per_sec": tokens / secs[0],
		"pass_seconds": secs[1], "pass_with_loss_seconds": secs[2],
		"pass_over_forward": secs[1] / secs[0], "pass_with_loss_over_forward": secs[2] / secs[0],
		"pass_tokens_per_sec": tokens / secs[1], "fused_attention": shape.FusedAttention,
	})
}

// TestSpeedDropOne (skipped unless GOMINITRON_SPEED_CONFIG is set) times the
// drop-one sweep over one batch recomputing every layer per removed layer
// (SkipStatic, the old default on the Go backend) against reusing the full
// model's layer inputs (SkipAuto), alternately, and checks they agree.
func TestSpeedDropOne(t *testing.T) {
	shape, s := speedShape(t)
	backend := s.backend
	batchSize := shape.Batch
	var losses [2][]float64
	sweep := func(i int, mode SkipMode) func() error {
		return func() error {
			run, finalize := lossSweep(backend, s.net, s.calib, batchSize, mode)
			defer finalize()
			var err error
			losses[i], err = run(1, nil)
			return err
		}
	}
	secs := fixtures.TimeRounds(t, shape.Rounds, sweep(0, SkipStatic), sweep(1, SkipAuto))
	checkSame(t, "drop_one reuse vs static", losses[1], losses[0])
	fixtures.WriteSpeedResult(t, map[string]any{
		"shape": shape.String(), "backend": backend.Name(),
		"drop_one_static_seconds": secs[0], "drop_one_reuse_seconds": secs[1], "static_over_reuse": secs[0] / secs[1],
	})
}

// speedDType parses a speed run's dtype name.
func speedDType(t testing.TB, name string) dtypes.DType {
	t.Helper()
	switch name {
	case "float32":
		return dtypes.Float32
	case "bfloat16":
		return dtypes.BFloat16
	}
	t.Fatalf("%s=%q: want float32 or bfloat16", fixtures.SpeedDTypeEnv, name)
	return dtypes.InvalidDType
}
