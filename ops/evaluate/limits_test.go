package evaluate

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
)

// TestLMLossRefusesNonFiniteLogProbs: NaN logits (weights poisoned in
// memory, past the load check) are an error naming the sequence and
// position, never a NaN perplexity.
func TestLMLossRefusesNonFiniteLogProbs(t *testing.T) {
	fx := loadTestFixture(t, "dev-llama-gqa")
	fx.model.Weights[llm.LMHeadName].MutableFlatData(func(flat any) { flat.([]float32)[0] = float32(math.NaN()) })
	p := newTestProber(t, fx, 4)
	_, err := LMLoss(p, fx.inputIDs, LossOptions{SeqLen: 32})
	want := "sequence 0, position 0: log-probability of the next token is NaN (non-finite logits): non-finite value (NaN or Inf); the first non-finite activations are in lm_head"
	if !errors.Is(err, llm.ErrNonFinite) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
}

// TestModelLogProberOptionsChecked: a max length beyond
// max_position_embeddings or a negative batch is refused, not defaulted.
func TestModelLogProberOptionsChecked(t *testing.T) {
	fx := loadTestFixture(t, "dev-llama-gqa")
	cases := []struct {
		opts ModelOptions
		want string
	}{
		{ModelOptions{MaxLen: 257}, "sequence length 257 exceeds the model's max_position_embeddings 256"},
		{ModelOptions{BatchSize: -1}, "batch size -1 and max length 0 must be ≥ 1 (0 = default)"},
	}
	for _, tc := range cases {
		_, err := NewModelLogProber(testBackend(t), fx.model, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// TestBenchRefusesBeforeAllocatingPrompts: a batch whose prompts alone would
// take terabytes is refused by the memory check before they are built.
func TestBenchRefusesBeforeAllocatingPrompts(t *testing.T) {
	fx := loadTestFixture(t, "dev-llama-gqa")
	r, err := llm.NewRunner(testBackend(t), fx.model)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cases := []struct {
		opts BenchOptions
		want string
	}{
		{BenchOptions{Batch: 1 << 50, InputLen: 100, OutputLen: 100}, "needs ~"}, // a regression fails at once: 2^50 rows exceed the address space
		{BenchOptions{Batch: 1, InputLen: 200, OutputLen: 100}, "input-len + output-len 300 exceeds the model's max_position_embeddings 256"},
		{BenchOptions{Batch: 1, InputLen: 8, OutputLen: 8, Repeats: -1}, "repeats must be ≥ 1"},
	}
	for _, tc := range cases {
		_, err := Bench(r, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.opts, err, tc.want)
		}
	}
}
