package prune_test

import (
	"fmt"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/results"
	"github.com/gomlx/compute/dtypes"
)

// The cost of a plan, without touching any weight.
func ExamplePlan_Estimate() {
	cfg, err := llm.LoadConfig("../../testdata/hf/dev-llama-gqa")
	if err != nil {
		panic(err)
	}
	e, err := prune.Plan{Hidden: 48, FFN: 96, HeadsPerGroup: 1, Layers: 1}.Estimate(cfg, dtypes.Float32)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.From, "→", e.To)
	fmt.Println(e.From.Params, "→", e.Params.Total, "params,", e.WeightBytes, "bytes,", e.KVCacheBytesPerToken, "KV-cache bytes/token")
	// Output:
	// L2 h64 f176 q4/kv2 → L1 h48 f96 q2/kv2
	// 158016 → 69264 params, 277056 bytes, 256 KV-cache bytes/token
}

// Pruning a model in memory: which units survive.
func ExampleApply() {
	dir := "../../testdata/hf/dev-llama-gqa"
	m, err := llm.LoadModel(dir, dtypes.Float32)
	if err != nil {
		panic(err)
	}
	scores, err := results.LoadImportance(dir + "/reference_importance.json")
	if err != nil {
		panic(err)
	}
	pr, err := prune.Apply(m, prune.Plan{FFN: 128, HeadsPerGroup: 1, Layers: 1}, scores)
	if err != nil {
		panic(err)
	}
	c := pr.Model.Config
	fmt.Printf("layers %d, ffn %d, heads %d (head_dim %d), hidden %d\n", c.NumLayers, c.FFN, c.NumHeads, c.HeadDim, c.Hidden)
	fmt.Println("kept source layers:", pr.Kept.Layers, "query heads:", pr.Kept.Heads[0])
	// Output:
	// layers 1, ffn 128, heads 2 (head_dim 16), hidden 64
	// kept source layers: [0] query heads: [1 3]
}
