package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/llm"
)

func runBench(args []string) error {
	fs := newFlagSet("bench",
		"usage: gominitron bench (--model DIR | --config config.json --random) --batch B --input-len I --output-len O [--dtype bfloat16 --repeats R]",
		"  B, I and O may be comma-separated lists: every combination is measured (the ISL/OSL grid); one point prints one JSON object, a grid a JSON array.")
	modelDir := fs.String("model", "", "Hugging Face model folder")
	configPath := fs.String("config", "", "config.json of a model shape (with --random)")
	random := fs.Bool("random", false, "random weights from --config (no download needed)")
	batches := fs.String("batch", "1", "batch size(s), e.g. 32 or 1,8,32")
	inputs := fs.String("input-len", "128", "prompt length(s) in tokens")
	outputs := fs.String("output-len", "128", "generated length(s) in tokens")
	dtype := dtypeFlag(fs, "bfloat16", "weights and compute dtype: float32, bfloat16 or float16")
	repeats := fs.Int("repeats", 3, "timed repetitions per point (median reported), after one warm-up")
	seed := fs.Uint64("seed", 1, "seed of the random weights and prompts")
	shape := fs.String("shape", "", "label of the shape in the result (default: the model folder or config file name)")
	out := fs.String("out", "", "also write the JSON result to this file (atomically)")
	if err := parseFlags(fs, args, positive("repeats")); err != nil {
		return err
	}
	if (*modelDir == "") == (*configPath == "") {
		return fmt.Errorf("give exactly one of --model DIR or --config config.json --random")
	}
	if err := checkOutputFlag("out", *out, *modelDir, *configPath); err != nil {
		return err
	}
	if *configPath != "" && !*random {
		return fmt.Errorf("--config needs --random (weights are generated, nothing is downloaded)")
	}
	var grid [3][]int
	var err error
	for i, f := range []struct{ name, value string }{{"batch", *batches}, {"input-len", *inputs}, {"output-len", *outputs}} {
		if grid[i], err = parseIntList(f.name, f.value); err != nil {
			return err
		}
	}
	be, err := backend.New()
	if err != nil {
		return err
	}
	var m *llm.Model
	label := *shape
	if *modelDir != "" {
		if m, err = llm.LoadModel(*modelDir, *dtype); err != nil {
			return err
		}
		if label == "" {
			label = filepath.Base(filepath.Clean(*modelDir))
		}
	} else {
		data, err := os.ReadFile(*configPath)
		if err != nil {
			return fmt.Errorf("--config: %w", err)
		}
		cfg, err := llm.ParseConfig(data)
		if err != nil {
			return fmt.Errorf("--config %s: %w", *configPath, err)
		}
		if m, err = llm.InitWeights(cfg, *dtype, *seed); err != nil {
			return err
		}
		if label == "" {
			label = strings.TrimSuffix(filepath.Base(*configPath), filepath.Ext(*configPath))
		}
	}
	runner, err := llm.NewRunner(be, m)
	if err != nil {
		return err
	}
	runner.WithDType(*dtype)
	defer runner.Close()
	var all []*evaluate.BenchResult
	for _, b := range grid[0] {
		for _, in := range grid[1] {
			for _, o := range grid[2] {
				res, err := evaluate.Bench(runner, evaluate.BenchOptions{Shape: label, Batch: b, InputLen: in, OutputLen: o,
					Repeats: *repeats, DType: *dtype, Seed: *seed})
				if err != nil {
					return fmt.Errorf("batch %d, input %d, output %d: %w", b, in, o, err)
				}
				res.Backend = be.Name()
				res.Device = be.Description()
				fmt.Fprintf(os.Stderr, "bench %s: batch %d in %d out %d: prefill %.0f tok/s, decode %.1f tok/s, %.3f req/s\n",
					label, b, in, o, res.PrefillTokensPerSec, res.DecodeTokensPerSec, res.RequestsPerSec)
				all = append(all, res)
			}
		}
	}
	var v any = all
	if len(all) == 1 {
		v = all[0]
	}
	return printJSON(v, *out)
}

func parseIntList(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("--%s %q: %q is not a positive integer", name, s, f)
		}
		out = append(out, v)
	}
	return out, nil
}
