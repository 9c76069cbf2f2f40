package main

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/llm"
)

// Flag helpers shared by the model commands (eval, importance, forward,
// generate, bench).

// parseDType parses a --dtype value: float32 (f32, fp32, empty), bfloat16
// (bf16) or float16 (f16, fp16), in any case.
func parseDType(name string) (dtypes.DType, error) {
	switch strings.ToLower(name) {
	case "float32", "f32", "fp32", "":
		return dtypes.Float32, nil
	case "bfloat16", "bf16":
		return dtypes.BFloat16, nil
	case "float16", "f16", "fp16":
		return dtypes.Float16, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("--dtype %q: want float32, bfloat16 or float16", name)
}

// loadModel opens the backend (ops/backend, one line on stderr) and loads
// the --model folder's weights in dtype.
func loadModel(modelDir string, dtype dtypes.DType) (*llm.Model, compute.Backend, error) {
	be, err := backend.New()
	if err != nil {
		return nil, nil, err
	}
	m, err := llm.LoadModel(modelDir, dtype)
	if err != nil {
		return nil, nil, err
	}
	return m, be, nil
}

// openRunner loads the model (loadModel) and returns a runner computing in
// dtype; the caller closes it.
func openRunner(modelDir string, dtype dtypes.DType) (*llm.Model, *llm.Runner, error) {
	m, be, err := loadModel(modelDir, dtype)
	if err != nil {
		return nil, nil, err
	}
	runner, err := llm.NewRunner(be, m)
	if err != nil {
		return nil, nil, err
	}
	runner.WithDType(dtype)
	return m, runner, nil
}
