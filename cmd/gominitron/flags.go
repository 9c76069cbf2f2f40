package main

import (
	"flag"
	"fmt"
	"math"
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

// dtypeValue is a --dtype flag parsed by parseDType as the flags are read.
type dtypeValue struct {
	name string
	dt   *dtypes.DType
}

func (v *dtypeValue) String() string {
	if v == nil {
		return ""
	}
	return v.name
}

func (v *dtypeValue) Set(s string) error {
	dt, err := parseDType(s)
	if err != nil {
		return err
	}
	v.name, *v.dt = s, dt
	return nil
}

// dtypeFlag defines --dtype with default def (a parseDType name) and
// returns where its parsed value is stored.
func dtypeFlag(fs *flag.FlagSet, def, usage string) *dtypes.DType {
	v := &dtypeValue{dt: new(dtypes.DType)}
	if err := v.Set(def); err != nil {
		panic("dtypeFlag: default " + err.Error())
	}
	fs.Var(v, "dtype", usage)
	return v.dt
}

// parseFlags parses args into fs, checks the numeric flags against their
// rules (checkFlags) and refuses positional arguments: the opening of every
// command that takes only flags.
func parseFlags(fs *flag.FlagSet, args []string, rules ...flagRule) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFlags(fs, rules...); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// loadModel opens the backend (ops/backend, one line on stderr) and loads
// the --model folder's weights onto its device for computing in dtype: they
// keep their stored dtype unless dtype is narrower (llm.LoadModelOnDevice),
// so a bfloat16 checkpoint takes 2 bytes a weight even when computing in
// float32, and the model is never held twice.
func loadModel(modelDir string, dtype dtypes.DType) (*llm.Model, compute.Backend, error) {
	be, err := backend.New()
	if err != nil {
		return nil, nil, err
	}
	m, err := llm.LoadModelOnDevice(modelDir, dtype, be)
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

// flagRule is the allowed range of a numeric flag: values below min (or
// equal to it when exclusive) are refused, as are NaN and ±Inf. 0 is never
// silently replaced by a default: a flag whose 0 means "default" or "off"
// says so in its rule by allowing it.
type flagRule struct {
	name      string
	min       float64
	exclusive bool
}

// positive and nonNegative are the two common rules.
func positive(name string) flagRule    { return flagRule{name: name, min: 0, exclusive: true} }
func nonNegative(name string) flagRule { return flagRule{name: name, min: 0} }
func atLeast(name string, min float64) flagRule {
	return flagRule{name: name, min: min}
}

// checkFlags validates the current values (given or default) of numeric
// flags against their rules: "--batch must be > 0, got 0".
func checkFlags(fs *flag.FlagSet, rules ...flagRule) error {
	for _, r := range rules { // every rule names a flag: a typo fails any run of the command (and its tests)
		if fs.Lookup(r.name) == nil {
			panic("checkFlags: no flag --" + r.name)
		}
	}
	for _, r := range rules {
		f := fs.Lookup(r.name)
		var v float64
		switch x := f.Value.(flag.Getter).Get().(type) {
		case int:
			v = float64(x)
		case int64:
			v = float64(x)
		case uint64:
			v = float64(x)
		case float64:
			v = x
		default:
			panic(fmt.Sprintf("checkFlags: --%s is not numeric", r.name))
		}
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("--%s must be a finite number, got %s", r.name, f.Value)
		case r.exclusive && v <= r.min:
			return fmt.Errorf("--%s must be > %g, got %s", r.name, r.min, f.Value)
		case v < r.min:
			return fmt.Errorf("--%s must be ≥ %g, got %s", r.name, r.min, f.Value)
		}
	}
	return nil
}
