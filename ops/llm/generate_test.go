package llm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
)

type referenceGenerate struct {
	Prompt []int32 `json:"prompt"`
	Greedy []int32 `json:"greedy"`
}

func loadReferenceGenerate(t *testing.T, name string) referenceGenerate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir(name), "reference_generate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r referenceGenerate
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// fixtureRunner puts the fixture's weights in a store and returns a Runner on it.
func fixtureRunner(t testing.TB, f *fixture) *Runner {
	t.Helper()
	store := model.NewStore()
	if err := storeWeights(store, DefaultScope, f.weights); err != nil {
		t.Fatal(err)
	}
	r, err := NewRunnerFromStore(testBackend(t), f.cfg, store, DefaultScope)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestGenerateGreedyMatchesReference: KV-cache greedy decoding reproduces
// transformers' generate() for every fixture.
func TestGenerateGreedyMatchesReference(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			ref := loadReferenceGenerate(t, name)
			r := fixtureRunner(t, f)
			out, err := r.Generate([][]int32{ref.Prompt}, GenerateOptions{MaxNewTokens: len(ref.Greedy) - len(ref.Prompt)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out[0], ref.Greedy) {
				t.Errorf("greedy:\n got %v\nwant %v", out[0], ref.Greedy)
			}
		})
	}
}

// TestGenerateBatchRaggedEqualsSingle: prompts of different lengths in one
// batch give the same greedy continuations as one at a time.
func TestGenerateBatchRaggedEqualsSingle(t *testing.T) {
	f := loadFixture(t, "dev-llama3-headdim-tied-bf16")
	r := fixtureRunner(t, f)
	ref := loadReferenceGenerate(t, f.name)
	prompts := [][]int32{ref.Prompt, ref.Prompt[:3], {5}}
	opts := GenerateOptions{MaxNewTokens: 6}
	batch, err := r.Generate(prompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prompts {
		single, err := r.Generate([][]int32{p}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(batch[i], single[0]) {
			t.Errorf("row %d: batch %v, alone %v", i, batch[i], single[0])
		}
	}
	if !slices.Equal(batch[0], ref.Greedy[:len(ref.Prompt)+6]) {
		t.Errorf("row 0 %v differs from the reference prefix %v", batch[0], ref.Greedy[:len(ref.Prompt)+6])
	}
}

// TestGenerateSampling: sampling is reproducible for a seed, top-k 1 is
// greedy, stop tokens end a sequence, and bad options are rejected.
func TestGenerateSampling(t *testing.T) {
	f := loadFixture(t, "dev-llama-gqa")
	r := fixtureRunner(t, f)
	ref := loadReferenceGenerate(t, f.name)
	prompt := [][]int32{ref.Prompt}
	gen := func(o GenerateOptions) []int32 {
		t.Helper()
		out, err := r.Generate(prompt, o)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	const n = 12
	a := gen(GenerateOptions{MaxNewTokens: n, Temperature: 1.5, TopP: 0.95, Seed: 7})
	b := gen(GenerateOptions{MaxNewTokens: n, Temperature: 1.5, TopP: 0.95, Seed: 7})
	c := gen(GenerateOptions{MaxNewTokens: n, Temperature: 1.5, TopP: 0.95, Seed: 8})
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different outputs: %v vs %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same %d sampled tokens: %v", n, a)
	}
	if len(a) != len(prompt[0])+n {
		t.Errorf("sampled %d tokens, want %d", len(a)-len(prompt[0]), n)
	}
	greedy := ref.Greedy
	if k1 := gen(GenerateOptions{MaxNewTokens: 10, Temperature: 2, TopK: 1, Seed: 3}); !slices.Equal(k1, greedy) {
		t.Errorf("top-k 1 sampling %v differs from greedy %v", k1, greedy)
	}
	if p := gen(GenerateOptions{MaxNewTokens: 10, Temperature: 1, TopP: 1e-9, Seed: 3}); !slices.Equal(p, greedy) {
		t.Errorf("top-p ~0 sampling %v differs from greedy %v", p, greedy)
	}
	stop := int(greedy[len(ref.Prompt)+2])
	if s := gen(GenerateOptions{MaxNewTokens: 10, StopTokens: []int{stop}}); !slices.Equal(s, greedy[:len(ref.Prompt)+3]) {
		t.Errorf("stop at %d: got %v, want %v", stop, s, greedy[:len(ref.Prompt)+3])
	}
	for _, bad := range []GenerateOptions{{MaxNewTokens: 0}, {MaxNewTokens: 1, TopK: -1}, {MaxNewTokens: 1, TopP: -0.5}} {
		if _, err := r.Generate(prompt, bad); err == nil {
			t.Errorf("options %+v: no error", bad)
		}
	}
	if _, err := r.Generate([][]int32{{int32(f.cfg.VocabSize)}}, GenerateOptions{MaxNewTokens: 1}); err == nil {
		t.Errorf("out-of-vocabulary prompt: no error")
	}
}
