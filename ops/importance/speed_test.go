package importance

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/llm"
)

// TestSpeedForwardVsPass (scripts/gpu_check.sh; skipped unless
// GOMINITRON_SPEED_CONFIG is set) times, on one random batch of the given
// shape and random weights, the plain forward with logits (reduced on the
// device to a scalar, so no logits leave it) against the all-axes importance
// pass with and without the LM loss, alternately, and writes tokens/s and
// the pass/forward ratios.
func TestSpeedForwardVsPass(t *testing.T) {
	shape := fixtures.SpeedShapeFromEnv(t)
	cfg, err := llm.ParseConfig(shape.Config)
	if err != nil {
		t.Fatalf("%s: %v", shape.ConfigPath, err)
	}
	dtype := speedDType(t, shape.DType)
	m, err := llm.InitWeights(cfg, dtype, 1)
	if err != nil {
		t.Fatal(err)
	}
	backend := testBackend(t)
	net, err := newLLMNetwork(cfg, m.Weights, dtype)
	if err != nil {
		t.Fatal(err)
	}
	bt := randomCalibration(cfg, shape.Batch, shape.SeqLen, 3).batch(0, shape.Batch)
	np := len(net.weights)
	plain, err := NewExec(backend, func(g *Graph, in []*Node) *Node {
		lossSum, _ := net.forward(in[:np], in[np], nil, nil, nil, nil, true) // the forward pass and its loss
		return lossSum
	})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Finalize()
	args := []any{}
	for _, w := range net.weights {
		args = append(args, w)
	}
	args = append(args, bt.ids)
	lay := newLayout(net.dims(), DefaultAggregation())
	noLoss, err := newBatchRunner(backend, net, lay, false)
	if err != nil {
		t.Fatal(err)
	}
	defer noLoss.finalize()
	withLoss, err := newBatchRunner(backend, net, lay, true)
	if err != nil {
		t.Fatal(err)
	}
	defer withLoss.finalize()
	secs := fixtures.TimeRounds(t, shape.Rounds,
		func() error {
			out, err := plain.Exec(args...)
			if err == nil {
				_ = out[0].Value() // wait for the device
				out[0].FinalizeAll()
			}
			return err
		},
		func() error { _, err := noLoss.run(bt); return err },
		func() error { _, err := withLoss.run(bt); return err })
	tokens := float64(shape.Batch * shape.SeqLen)
	fixtures.WriteSpeedResult(t, map[string]any{
		"shape": shape.String(), "backend": backend.Name(), "device": backend.Description(),
		"forward_seconds": secs[0], "forward_tokens_per_sec": tokens / secs[0],
		"pass_seconds": secs[1], "pass_with_loss_seconds": secs[2],
		"pass_over_forward": secs[1] / secs[0], "pass_with_loss_over_forward": secs[2] / secs[0],
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
