package llm_test

import (
	"fmt"
	"os"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"

	"github.com/gominitron/gominitron/ops/llm"
)

// Greedy KV-cache generation from a Hugging Face checkpoint folder; the ids
// equal transformers' generate() (testdata/hf/*/reference_generate.json).
func ExampleRunner_Generate() {
	r := openRunner("../../testdata/hf/dev-llama-gqa")
	defer r.Close()
	out, err := r.Generate([][]int32{{351, 11, 337, 326, 63, 87, 509, 75}}, llm.GenerateOptions{MaxNewTokens: 10})
	if err != nil {
		panic(err)
	}
	fmt.Println(out[0])
	// Output: [351 11 337 326 63 87 509 75 119 391 289 467 119 229 139 336 81 336]
}

// Logits of a ragged batch (rows are right-padded; positions past a row's
// length are meaningless).
func ExampleRunner_Logits() {
	r := openRunner("../../testdata/hf/dev-qwen2-bias")
	defer r.Close()
	logits, err := r.Logits([][]int32{{1, 2, 3, 4}, {5, 6}})
	if err != nil {
		panic(err)
	}
	fmt.Println(logits.Shape())
	// Output: (Float32)[2, 4, 300]
}

// openRunner loads the Hugging Face folder dir in float32 onto the backend
// GOMLX_BACKEND names (the pure-Go one when unset).
func openRunner(dir string) *llm.Runner {
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	backend, err := compute.New()
	if err != nil {
		panic(err)
	}
	m, err := llm.LoadModel(dir, dtypes.Float32)
	if err != nil {
		panic(err)
	}
	r, err := llm.NewRunner(backend, m)
	if err != nil {
		panic(err)
	}
	return r
}
