package evaluate

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
)

// RandomWeights makes a random model (every tensor of cfg.TensorShapes) in dtype (float32,
// bfloat16 or float16): matrices uniform with standard deviation
// initializer_range (0.02 if unset), norm weights 1, biases 0. The same
// seed gives the same weights. Filling runs on every CPU core.
func RandomWeights(cfg *llm.Config, dtype dtypes.DType, seed uint64) (*llm.Model, error) {
	switch dtype {
	case dtypes.Float32, dtypes.BFloat16, dtypes.Float16:
	default:
		return nil, fmt.Errorf("evaluate: random weights: dtype %s not supported (float32, bfloat16, float16)", dtype)
	}
	if err := llm.CheckFits(fmt.Sprintf("evaluate: random %s weights", strings.ToLower(dtype.String())), cfg.WeightBytes(dtype)); err != nil {
		return nil, err
	}
	std := cfg.InitializerRange
	if std <= 0 {
		std = 0.02
	}
	limit := float32(std * math.Sqrt(3))
	shapesByName := cfg.TensorShapes()
	names := make([]string, 0, len(shapesByName))
	for n := range shapesByName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]*tensors.Tensor, len(names))
	for i, n := range names {
		t := tensors.FromShape(shapes.Make(dtype, shapesByName[n]...))
		var constant float32
		random := true
		switch {
		case len(shapesByName[n]) == 1 && !isBias(n):
			constant, random = 1, false
		case isBias(n):
			random = false
		}
		err := t.MutableFlatData(func(flat any) {
			fillParallel(flat, random, constant, limit, seed*0x9e3779b97f4a7c15+uint64(i+1))
		})
		if err != nil {
			return nil, fmt.Errorf("evaluate: random weights: %s: %w", n, err)
		}
		out[n] = t
	}
	return &llm.Model{Config: cfg, Weights: out}, nil
}

func isBias(name string) bool { return len(name) > 5 && name[len(name)-5:] == ".bias" }

// fillParallel fills a float32/bfloat16/float16 slice with a constant or
// with uniform values in [-limit, limit), in chunks on every core; each
// chunk has its own splitmix64 stream, so the result does not depend on
// the number of cores.
func fillParallel(flat any, random bool, constant, limit float32, seed uint64) {
	var n int
	switch f := flat.(type) {
	case []float32:
		n = len(f)
	case []bfloat16.BFloat16:
		n = len(f)
	case []float16.Float16:
		n = len(f)
	}
	const chunk = 1 << 16
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for start := 0; start < n; start += chunk {
		wg.Add(1)
		sem <- struct{}{}
		go func(start, end int) {
			defer func() { <-sem; wg.Done() }()
			state := seed ^ uint64(start)*0xbf58476d1ce4e5b9
			value := func() float32 {
				if !random {
					return constant
				}
				state += 0x9e3779b97f4a7c15
				z := state
				z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
				z = (z ^ (z >> 27)) * 0x94d049bb133111eb
				z ^= z >> 31
				return (float32(z>>40)/float32(1<<24)*2 - 1) * limit
			}
			switch f := flat.(type) {
			case []float32:
				for i := start; i < end; i++ {
					f[i] = value()
				}
			case []bfloat16.BFloat16:
				for i := start; i < end; i++ {
					f[i] = bfloat16.FromFloat32(value())
				}
			case []float16.Float16:
				for i := start; i < end; i++ {
					f[i] = float16.FromFloat32(value())
				}
			}
		}(start, min(start+chunk, n))
	}
	wg.Wait()
}
