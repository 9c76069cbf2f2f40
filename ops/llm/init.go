package llm

import (
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// InitWeights returns a freshly initialised model for cfg with every tensor of
// cfg.TensorShapes in dtype (float32, bfloat16 or float16), following Hugging
// Face's LlamaPreTrainedModel._init_weights:
//
//   - linear and embedding weights ~ Normal(0, initializer_range)
//     (0.02 when the config leaves it unset);
//   - biases 0;
//   - RMSNorm weights (the other 1-D tensors) 1.
//
// The draw is deterministic in seed and does not depend on the number of CPU
// cores: each tensor (in name order) is filled in fixed-size chunks, each with
// its own splitmix64 stream, on every core.
func InitWeights(cfg *Config, dtype dtypes.DType, seed uint64) (*Model, error) {
	if cfg == nil {
		return nil, fmt.Errorf("llm.InitWeights: nil config")
	}
	switch dtype {
	case dtypes.Float32, dtypes.BFloat16, dtypes.Float16:
	default:
		return nil, fmt.Errorf("llm.InitWeights: dtype %s not supported (float32, bfloat16, float16)", dtype)
	}
	if cfg.VocabSize <= 0 || cfg.Hidden <= 0 || cfg.FFN <= 0 || cfg.NumLayers <= 0 || cfg.NumHeads <= 0 || cfg.NumKVHeads <= 0 || cfg.HeadDim <= 0 {
		return nil, fmt.Errorf("llm.InitWeights: config needs positive vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim")
	}
	if err := CheckFits(fmt.Sprintf("llm.InitWeights: random %s weights", strings.ToLower(dtype.String())), cfg.WeightBytes(dtype)); err != nil {
		return nil, err
	}
	std := cfg.InitializerRange
	if std <= 0 {
		std = defaultInitializerRange
	}
	shapesByName := cfg.TensorShapes()
	names := slices.Sorted(maps.Keys(shapesByName))
	weights := make(map[string]*tensors.Tensor, len(names))
	for i, name := range names {
		dims := shapesByName[name]
		fill := initNormal
		switch {
		case strings.HasSuffix(name, ".bias"):
			fill = initZeros
		case len(dims) == 1:
			fill = initOnes
		}
		t := tensors.FromShape(shapes.Make(dtype, dims...))
		err := t.MutableFlatData(func(flat any) {
			fillParallel(flat, fill, float32(std), seed*0x9e3779b97f4a7c15+uint64(i+1))
		})
		if err != nil {
			return nil, fmt.Errorf("llm.InitWeights: %s: %w", name, err)
		}
		weights[name] = t
	}
	return &Model{Config: cfg, Weights: weights}, nil
}

// initRule says how InitWeights fills one tensor.
type initRule int

const (
	initNormal initRule = iota // Normal(0, std)
	initZeros
	initOnes
)

// fillParallel fills a float32/bfloat16/float16 slice by rule, in chunks on
// every core; each chunk has its own splitmix64 stream seeded from seed and
// its offset, so the result does not depend on the number of cores.
func fillParallel(flat any, rule initRule, std float32, seed uint64) {
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
			values := make([]float32, end-start)
			switch rule {
			case initNormal:
				normalFill(values, std, seed^uint64(start)*0xbf58476d1ce4e5b9)
			case initOnes:
				for i := range values {
					values[i] = 1
				}
			}
			switch f := flat.(type) {
			case []float32:
				copy(f[start:end], values)
			case []bfloat16.BFloat16:
				for i, v := range values {
					f[start+i] = bfloat16.FromFloat32(v)
				}
			case []float16.Float16:
				for i, v := range values {
					f[start+i] = float16.FromFloat32(v)
				}
			}
		}(start, min(start+chunk, n))
	}
	wg.Wait()
}

// normalFill fills values with Normal(0, std) draws: Box–Muller on a
// splitmix64 stream started at state.
func normalFill(values []float32, std float32, state uint64) {
	uniform := func() float64 { // in (0, 1]
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		return (float64(z>>11) + 1) / (1 << 53)
	}
	for i := 0; i < len(values); i += 2 {
		r := math.Sqrt(-2 * math.Log(uniform()))
		theta := 2 * math.Pi * uniform()
		values[i] = float32(r*math.Cos(theta)) * std
		if i+1 < len(values) {
			values[i+1] = float32(r*math.Sin(theta)) * std
		}
	}
}
