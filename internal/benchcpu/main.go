// Command benchcpu times one row of scripts/bench_cpu.sh — a forward pass, an
// AdamW training step, the importance pass or greedy generation — of a
// random-weight float32 model of the given config shape on the backend
// GOMLX_BACKEND selects (the pure-Go one on CPU), and prints one JSON line
// with the best of the timed rounds (one warm-up round, which compiles, is
// not timed). scripts/bench_cpu_ref.py is its PyTorch counterpart.
//
//	benchcpu -config recipes/bench/smollm-135m.json -row forward -batch 8 -seq 128 -rounds 1
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/train"
)

// Rows, with the tokens one run processes.
const (
	rowForward  = "forward"  // logits of batch × seq tokens
	rowTrain    = "train"    // next-token CE loss, backward, clip 1, AdamW on batch × seq tokens
	rowPass     = "pass"     // importance activation scores (ffn, heads, hidden, BI) of batch × seq tokens
	rowGenerate = "generate" // greedy KV-cache decoding of new tokens after a seq-token prompt, batch rows
)

func main() {
	configPath := flag.String("config", "", "model config.json (shape only; weights are random)")
	row := flag.String("row", rowForward, "forward | train | pass | generate")
	batch := flag.Int("batch", 8, "rows")
	seq := flag.Int("seq", 128, "tokens per row (the prompt length for generate)")
	newTokens := flag.Int("new", 32, "generate: new tokens per row")
	rounds := flag.Int("rounds", 1, "timed rounds after one warm-up")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed rounds to this file (go tool pprof -top)")
	memProfile := flag.String("memprofile", "", "write an allocation profile to this file after the rounds (go tool pprof -sample_index=alloc_space -top)")
	flag.Parse()
	if err := run(*configPath, *row, *batch, *seq, *newTokens, *rounds, *cpuProfile, *memProfile); err != nil {
		fmt.Fprintln(os.Stderr, "benchcpu:", err)
		os.Exit(1)
	}
}

func run(configPath, row string, batch, seq, newTokens, rounds int, cpuProfile, memProfile string) error {
	if batch < 1 || seq < 2 || newTokens < 1 || rounds < 1 {
		return fmt.Errorf("-batch %d, -seq %d, -new %d, -rounds %d: want ≥ 1 (seq ≥ 2)", batch, seq, newTokens, rounds)
	}
	if memProfile != "" {
		if err := fileio.CheckOutput(memProfile, configPath); err != nil {
			return fmt.Errorf("-memprofile: %w", err)
		}
	}
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return fmt.Errorf("-config: %w", err)
	}
	cfg, err := llm.ParseConfig(raw)
	if err != nil {
		return fmt.Errorf("-config %s: %w", configPath, err)
	}
	be, err := backend.New()
	if err != nil {
		return err
	}
	m, err := llm.InitWeights(cfg, dtypes.Float32, 1)
	if err != nil {
		return err
	}
	ids := randomIDs(batch, seq, cfg.VocabSize)
	var step func() error
	tokens := batch * seq
	switch row {
	case rowForward:
		step, err = forwardStep(be, m, ids)
	case rowTrain:
		step, err = trainStep(be, m, ids)
	case rowPass:
		step, err = passStep(be, m, ids)
	case rowGenerate:
		step, err = generateStep(be, m, ids, newTokens)
		tokens = batch * newTokens
	default:
		return fmt.Errorf("-row %q: want forward, train, pass or generate", row)
	}
	if err != nil {
		return err
	}
	best, bestCPU := 0.0, 0.0      // wall and process CPU seconds (all threads) of the best rounds
	for r := -1; r < rounds; r++ { // round −1 compiles and warms up
		if r == 0 && cpuProfile != "" {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return fmt.Errorf("-cpuprofile: %w", err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return fmt.Errorf("-cpuprofile: %w", err)
			}
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
		start, cpuStart := time.Now(), processCPUSeconds()
		if err := step(); err != nil {
			return fmt.Errorf("%s: %w", row, err)
		}
		if secs := time.Since(start).Seconds(); r >= 0 && (best == 0 || secs < best) {
			best = secs
		}
		if cpu := processCPUSeconds() - cpuStart; r >= 0 && (bestCPU == 0 || cpu < bestCPU) {
			bestCPU = cpu
		}
	}
	if memProfile != "" {
		if err := writeAllocProfile(memProfile); err != nil {
			return fmt.Errorf("-memprofile: %w", err)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "gominitron", "row": row, "shape": filepath.Base(configPath), "batch": batch, "seq": seq,
		"seconds": best, "tokens_per_sec": float64(tokens) / best, "backend": be.Name(),
		"cpu_seconds": bestCPU, // less sensitive than seconds to other processes on a shared machine
	})
}

// writeAllocProfile writes the heap profile (with every allocation since the start) to path,
// atomically (run checked the path against the input first).
func writeAllocProfile(path string) error {
	return fileio.WriteStream(path, func(w io.Writer) error { return pprof.Lookup("allocs").WriteTo(w, 0) })
}

// randomIDs are batch rows of seq token ids, fixed seed.
func randomIDs(batch, seq, vocab int) [][]int32 {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([][]int32, batch)
	for i := range rows {
		rows[i] = make([]int32, seq)
		for j := range rows[i] {
			rows[i][j] = int32(rng.IntN(vocab))
		}
	}
	return rows
}

func idsTensor(rows [][]int32) *tensors.Tensor {
	flat := make([]int32, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return tensors.FromFlatDataAndDimensions(flat, len(rows), len(rows[0]))
}

func forwardStep(be compute.Backend, m *llm.Model, ids [][]int32) (func() error, error) {
	r, err := llm.NewRunner(be, m)
	if err != nil {
		return nil, err
	}
	in := idsTensor(ids)
	return func() error {
		out, err := r.Forward(in, nil)
		if err != nil {
			return err
		}
		for _, t := range append(out.Hidden, out.Logits, out.LastLayerRaw) {
			t.FinalizeAll()
		}
		return nil
	}, nil
}

func trainStep(be compute.Backend, m *llm.Model, ids [][]int32) (func() error, error) {
	store := model.NewStore()
	if err := m.ToStore(store, train.ModelScope); err != nil {
		return nil, err
	}
	tr, err := train.New(be, store, train.LMLoss(m.Config, train.ModelScope, dtypes.Float32),
		train.Config{Schedule: train.Schedule{PeakLR: 1e-4, TotalSteps: 1 << 20}, AdamW: train.DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		return nil, err
	}
	batch := []*tensors.Tensor{idsTensor(ids)}
	return func() error { _, err := tr.TrainStep(batch); return err }, nil
}

func passStep(be compute.Backend, m *llm.Model, ids [][]int32) (func() error, error) {
	calib := &importance.Calibration{IDs: ids}
	opts := importance.Options{BatchSize: len(ids)}
	return func() error { _, err := importance.Estimate(be, m.Config, m.Weights, calib, opts); return err }, nil
}

func generateStep(be compute.Backend, m *llm.Model, prompts [][]int32, newTokens int) (func() error, error) {
	r, err := llm.NewRunner(be, m)
	if err != nil {
		return nil, err
	}
	opts := llm.GenerateOptions{MaxNewTokens: newTokens, SkipFiniteCheck: true}
	return func() error { _, err := r.Generate(prompts, opts); return err }, nil
}
