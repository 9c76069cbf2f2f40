package importance

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

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

// randomWeights fills every HF tensor of cfg with N(0, 0.02²) (norms 1).
func randomWeights(cfg *llm.Config, seed uint64) map[string]*tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := map[string]*tensors.Tensor{}
	mat := func(name string, rows, cols int) {
		v := make([]float32, rows*cols)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.02)
		}
		w[name] = tensors.FromFlatDataAndDimensions(v, rows, cols)
	}
	ones := func(name string, n int) {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		w[name] = tensors.FromFlatDataAndDimensions(v, n)
	}
	h, q, kv := cfg.Hidden, cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	mat("model.embed_tokens.weight", cfg.VocabSize, h)
	for l := range cfg.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		ones(p+"input_layernorm.weight", h)
		ones(p+"post_attention_layernorm.weight", h)
		mat(p+"self_attn.q_proj.weight", q, h)
		mat(p+"self_attn.k_proj.weight", kv, h)
		mat(p+"self_attn.v_proj.weight", kv, h)
		mat(p+"self_attn.o_proj.weight", h, q)
		mat(p+"mlp.gate_proj.weight", cfg.FFN, h)
		mat(p+"mlp.up_proj.weight", cfg.FFN, h)
		mat(p+"mlp.down_proj.weight", h, cfg.FFN)
	}
	ones("model.norm.weight", h)
	mat("lm_head.weight", cfg.VocabSize, h)
	return w
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

// BenchmarkPlainForward: llm.Forward with logits on one batch (output
// reduced to a scalar so no logits are transferred).
func BenchmarkPlainForward(b *testing.B) {
	backend := testBackend(b)
	cfg := benchConfig()
	net, err := newLLMNetwork(cfg, randomWeights(cfg, 1), dtypes.Float32)
	if err != nil {
		b.Fatal(err)
	}
	calib := randomCalibration(cfg, benchBatch, benchSeqLen, 3)
	np := len(net.weights)
	exec, err := NewExec(backend, func(g *Graph, in []*Node) *Node {
		lossSum, _ := net.forward(in[:np], in[np], nil, nil, nil, nil, true) // the forward pass and its loss
		return lossSum
	})
	if err != nil {
		b.Fatal(err)
	}
	defer exec.Finalize()
	bt := calib.batch(0, benchBatch)
	args := []any{}
	for _, w := range net.weights {
		args = append(args, w)
	}
	args = append(args, bt.ids)
	if _, err := exec.Exec(args...); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		out, err := exec.Exec(args...)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
}

// BenchmarkPass runs the all-axes statistics graph on one batch, without
// logits (activation scores only) and with logits + LM loss.
func BenchmarkPass(b *testing.B) {
	for _, withLoss := range []bool{false, true} {
		b.Run(fmt.Sprintf("loss=%v", withLoss), func(b *testing.B) {
			backend := testBackend(b)
			cfg := benchConfig()
			net, err := newLLMNetwork(cfg, randomWeights(cfg, 1), dtypes.Float32)
			if err != nil {
				b.Fatal(err)
			}
			calib := randomCalibration(cfg, benchBatch, benchSeqLen, 3)
			runner, err := newBatchRunner(backend, net, newLayout(net.dims(), DefaultAggregation()), withLoss)
			if err != nil {
				b.Fatal(err)
			}
			defer runner.finalize()
			bt := calib.batch(0, benchBatch)
			acc := newAccumulator(runner.lay)
			if _, err := runner.run(bt); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				flat, err := runner.run(bt)
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

// TestPassCostRatio (IMPORTANCE_BENCH=1) times the plain forward and the
// pass alternately on the same batch (robust to a shared, noisy machine)
// and logs min and median times and the ratios.
func TestPassCostRatio(t *testing.T) {
	if os.Getenv("IMPORTANCE_BENCH") == "" {
		t.Skip("set IMPORTANCE_BENCH=1 to time the pass against a plain forward")
	}
	rounds := 7
	if v, err := strconv.Atoi(os.Getenv("IMPORTANCE_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	backend := testBackend(t)
	cfg := benchConfig()
	net, err := newLLMNetwork(cfg, randomWeights(cfg, 1), dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	bt := randomCalibration(cfg, benchBatch, benchSeqLen, 3).batch(0, benchBatch)
	np := len(net.weights)
	plain, err := NewExec(backend, func(g *Graph, in []*Node) *Node {
		lossSum, _ := net.forward(in[:np], in[np], nil, nil, nil, nil, true) // the forward pass and its loss
		return lossSum
	})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Finalize()
	plainNoLogits, err := NewExec(backend, func(g *Graph, in []*Node) *Node {
		var sum *Node
		tap := func(layer int, name string, x *Node) {
			if layer == cfg.NumLayers-1 && name == tapResidualOut {
				sum = ReduceAllSum(x)
			}
		}
		net.forward(in[:np], in[np], nil, nil, nil, tap, false)
		return sum
	})
	if err != nil {
		t.Fatal(err)
	}
	defer plainNoLogits.Finalize()
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
	runs := []struct {
		name string
		fn   func() error
	}{
		{"plain forward (logits)", func() error {
			out, err := plain.Exec(args...)
			if err == nil {
				out[0].FinalizeAll()
			}
			return err
		}},
		{"plain forward, no logits", func() error {
			out, err := plainNoLogits.Exec(args...)
			if err == nil {
				out[0].FinalizeAll()
			}
			return err
		}},
		{"pass, no logits", func() error { _, err := noLoss.run(bt); return err }},
		{"pass + LM loss", func() error { _, err := withLoss.run(bt); return err }},
	}
	times := make([][]float64, len(runs))
	cpu := make([][]float64, len(runs))
	for round := -1; round < rounds; round++ { // round −1 compiles and warms up
		for i, r := range runs {
			start, startCPU := time.Now(), processCPUSeconds()
			if err := r.fn(); err != nil {
				t.Fatal(err)
			}
			if round >= 0 {
				times[i] = append(times[i], time.Since(start).Seconds())
				cpu[i] = append(cpu[i], processCPUSeconds()-startCPU)
			}
		}
	}
	t.Logf("backend %s, %d layers hidden %d ffn %d heads %d/%d, batch %d × %d tokens, %d rounds",
		backend.Name(), cfg.NumLayers, cfg.Hidden, cfg.FFN, cfg.NumHeads, cfg.NumKVHeads, benchBatch, benchSeqLen, rounds)
	base := slices.Min(times[0])
	baseMed := median(times[0])
	baseCPU := median(cpu[0])
	for i, r := range runs {
		t.Logf("%-26s wall min %8.1f ms (%.3f×)  median %8.1f ms (%.3f×)  cpu median %8.1f ms (%.3f×)", r.name,
			1e3*slices.Min(times[i]), slices.Min(times[i])/base, 1e3*median(times[i]), median(times[i])/baseMed,
			1e3*median(cpu[i]), median(cpu[i])/baseCPU)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// processCPUSeconds is the user+system CPU time of this process.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
