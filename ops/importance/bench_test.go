package importance

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/llm"
)

// benchConfig is a small but not tiny Llama (GQA, untied) for timing the
// pass against a plain forward on CPU; IMPORTANCE_BENCH_SCALE=k multiplies
// hidden/ffn/heads by k (e.g. 4 on a GPU).
func benchConfig() *llm.Config {
	scale := 1
	if v, err := strconv.Atoi(os.Getenv("IMPORTANCE_BENCH_SCALE")); err == nil && v > 0 {
		scale = v
	}
	return &llm.Config{ModelType: "llama", VocabSize: 4096, Hidden: 256 * scale, FFN: 704 * scale, NumLayers: 4,
		NumHeads: 8 * scale, NumKVHeads: 2 * scale, HeadDim: 32, RMSNormEps: 1e-5, HiddenAct: "silu",
		RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"}}
}

func randomCalibration(cfg *llm.Config, samples, seqLen int, seed uint64) *Calibration {
	rng := rand.New(rand.NewPCG(seed, 2))
	c := &Calibration{}
	for range samples {
		row := make([]int32, seqLen)
		for j := range row {
			row[j] = int32(rng.IntN(cfg.VocabSize))
		}
		c.IDs = append(c.IDs, row)
	}
	return c
}

const (
	benchBatch  = 4
	benchSeqLen = 128
)

// speedModel is a random-weight model with one random batch, and its plain
// forward with logits compiled (reduced to a scalar, so no logits leave the
// device): the reference every timing here is a ratio to.
type speedModel struct {
	backend compute.Backend
	cfg     *llm.Config
	net     *llmNetwork
	calib   *Calibration
	bt      *batch
	plain   *Exec
	args    []any // params, ids
}

func newSpeedModel(t testing.TB, cfg *llm.Config, dtype dtypes.DType, batchSize, seqLen int, fusedAttention bool) *speedModel {
	t.Helper()
	m, err := llm.InitWeights(cfg, dtype, 1)
	if err != nil {
		t.Fatal(err)
	}
	net, err := newLLMNetwork(cfg, m.Weights, dtype)
	if err != nil {
		t.Fatal(err)
	}
	net.fusedAttention = fusedAttention
	s := &speedModel{backend: testBackend(t), cfg: cfg, net: net, calib: randomCalibration(cfg, batchSize, seqLen, 3)}
	s.bt = s.calib.batch(0, batchSize)
	np := len(net.weights)
	if s.plain, err = NewExec(s.backend, func(g *Graph, in []*Node) *Node {
		lossSum, _ := net.forward(in[:np], in[np], nil, nil, nil, nil, true) // the forward pass and its loss
		return lossSum
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.plain.Finalize)
	for _, w := range net.weights {
		s.args = append(s.args, w)
	}
	s.args = append(s.args, s.bt.ids)
	return s
}

// forward runs the plain forward once and waits for the result.
func (s *speedModel) forward() error {
	out, err := s.plain.Exec(s.args...)
	if err == nil {
		_ = out[0].Value() // wait for the device
		out[0].FinalizeAll()
	}
	return err
}

// passRunners compiles the statistics graph without and with the LM loss.
func (s *speedModel) passRunners(t testing.TB) (noLoss, withLoss *batchRunner) {
	t.Helper()
	lay := newLayout(s.net.dims(), DefaultAggregation())
	var err error
	if noLoss, err = newBatchRunner(s.backend, s.net, lay, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(noLoss.finalize)
	if withLoss, err = newBatchRunner(s.backend, s.net, lay, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(withLoss.finalize)
	return noLoss, withLoss
}

// BenchmarkPlainForward: llm.Forward with logits on one batch.
func BenchmarkPlainForward(b *testing.B) {
	s := newSpeedModel(b, benchConfig(), dtypes.Float32, benchBatch, benchSeqLen, false)
	if err := s.forward(); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.forward(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPass runs the all-axes statistics graph on one batch, without
// logits (activation scores only) and with logits + LM loss.
func BenchmarkPass(b *testing.B) {
	s := newSpeedModel(b, benchConfig(), dtypes.Float32, benchBatch, benchSeqLen, false)
	noLoss, withLoss := s.passRunners(b)
	for _, runner := range []*batchRunner{noLoss, withLoss} {
		b.Run(fmt.Sprintf("loss=%v", runner.wantLoss), func(b *testing.B) {
			acc := newAccumulator(runner.lay)
			if _, err := runner.run(s.bt); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				flat, err := runner.run(s.bt)
				if err != nil {
					b.Fatal(err)
				}
				if err := acc.addBatch(flat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPassCostRatio times the plain forward and the pass alternately on the
// same batch (robust to a shared, noisy machine) and logs median times and
// the ratios. It runs one round in the normal test run (a smoke test of the
// timing set-up); IMPORTANCE_BENCH_ROUNDS=9 for numbers worth quoting.
func TestPassCostRatio(t *testing.T) {
	rounds := 1
	if v, err := strconv.Atoi(os.Getenv("IMPORTANCE_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	cfg := benchConfig()
	s := newSpeedModel(t, cfg, dtypes.Float32, benchBatch, benchSeqLen, false)
	np := len(s.net.weights)
	plainNoLogits, err := NewExec(s.backend, func(g *Graph, in []*Node) *Node {
		var sum *Node
		tap := func(layer int, name string, x *Node) {
			if layer == cfg.NumLayers-1 && name == tapResidualOut {
				sum = ReduceAllSum(x)
			}
		}
		s.net.forward(in[:np], in[np], nil, nil, nil, tap, false)
		return sum
	})
	if err != nil {
		t.Fatal(err)
	}
	defer plainNoLogits.Finalize()
	noLoss, withLoss := s.passRunners(t)
	names := []string{"plain forward (logits)", "plain forward, no logits", "pass, no logits", "pass + LM loss"}
	secs := fixtures.TimeRounds(t, rounds,
		s.forward,
		func() error {
			out, err := plainNoLogits.Exec(s.args...)
			if err == nil {
				out[0].FinalizeAll()
			}
			return err
		},
		func() error { _, err := noLoss.run(s.bt); return err },
		func() error { _, err := withLoss.run(s.bt); return err })
	t.Logf("%d layers hidden %d ffn %d heads %d/%d, batch %d × %d tokens, %d rounds",
		cfg.NumLayers, cfg.Hidden, cfg.FFN, cfg.NumHeads, cfg.NumKVHeads, benchBatch, benchSeqLen, rounds)
	for i, name := range names {
		t.Logf("%-26s wall median %8.1f ms (%.3f×)", name, 1e3*secs[i], secs[i]/secs[0])
	}
}
