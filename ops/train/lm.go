package train

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/ops/llm"
)

// ModelScope is the store scope under which the trained model's weights live
// (one variable per Hugging Face tensor name).
const ModelScope = "/model"

// LMLoss returns the next-token cross-entropy LossFn of the Llama-family
// model cfg whose weights are under scopePath in the store, computed in dtype
// (float32 or bfloat16; the weights stay float32 masters, cast in the graph).
// It reports no extra metrics.
func LMLoss(cfg *llm.Config, scopePath string, dtype dtypes.DType) LossFn {
	return func(g *graph.Graph, store *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		out := llm.Forward(cfg, llm.StoreParams(g, store, scopePath), batch, &llm.ForwardOptions{DType: dtype})
		return llm.NextTokenLoss(out.Logits, batch, nil), nil
	}
}

// InitWeights returns freshly initialized float32 weights for cfg, keyed by
// HF name, the way Hugging Face's LlamaPreTrainedModel._init_weights does:
// every linear and embedding weight ~ N(0, initializer_range) (0.02 when
// unset), RMSNorm weights 1, biases 0. The draw is deterministic in seed (one
// PCG stream per tensor, in name order).
func InitWeights(cfg *llm.Config, seed uint64) (map[string]*tensors.Tensor, error) {
	if cfg.VocabSize <= 0 || cfg.Hidden <= 0 || cfg.FFN <= 0 || cfg.NumLayers <= 0 || cfg.NumHeads <= 0 || cfg.NumKVHeads <= 0 || cfg.HeadDim <= 0 {
		return nil, fmt.Errorf("train: config needs positive vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim")
	}
	if err := llm.CheckFits("train: initial float32 weights", cfg.WeightBytes(dtypes.Float32)); err != nil {
		return nil, err
	}
	shapes := cfg.TensorShapes()
	std := cfg.InitializerRange
	if std <= 0 {
		std = 0.02
	}
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]*tensors.Tensor, len(names))
	for i, name := range names {
		dims := shapes[name]
		size := 1
		for _, d := range dims {
			size *= d
		}
		data := make([]float32, size)
		switch {
		case NoDecayByName(name) && !isBias(name): // RMSNorm weight
			for j := range data {
				data[j] = 1
			}
		case isBias(name):
		default:
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			for j := range data {
				data[j] = float32(r.NormFloat64() * std)
			}
		}
		out[name] = tensors.FromFlatDataAndDimensions(data, dims...)
	}
	return out, nil
}

func isBias(name string) bool { return len(name) >= 5 && name[len(name)-5:] == ".bias" }

// NewModel returns a freshly initialized model (InitWeights) for cfg.
func NewModel(cfg *llm.Config, seed uint64) (*llm.Model, error) {
	w, err := InitWeights(cfg, seed)
	if err != nil {
		return nil, err
	}
	return &llm.Model{Config: cfg, Weights: w}, nil
}
