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

// TestModelLogProberOptionsChecked: a negative batch or length is refused,
// not defaulted; the max length is capped by max_position_embeddings, so
// windows and sequences beyond it are refused.
func TestModelLogProberOptionsChecked(t *testing.T) {
	fx := loadTestFixture(t, "dev-llama-gqa") // max_position_embeddings 256
	for _, opts := range []ModelOptions{{BatchSize: -1}, {MaxLen: -2}} {
		_, err := NewModelLogProber(testBackend(t), fx.model, opts)
		if err == nil || !strings.Contains(err.Error(), "must be ≥ 1 (0 = default)") {
			t.Errorf("%+v: err = %v", opts, err)
		}
	}
	p, err := NewModelLogProber(testBackend(t), fx.model, ModelOptions{MaxLen: 300})
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxLen() != 256 {
		t.Errorf("MaxLen() = %d, want the 256 positions of the model", p.MaxLen())
	}
	if _, err := LMLoss(p, fx.inputIDs, LossOptions{SeqLen: 300}); err == nil || !strings.Contains(err.Error(), "seq-len 300 exceeds the model's max length 256") {
		t.Errorf("LMLoss seq-len 300: err = %v", err)
	}
	long := make([]int32, 258) // 257 input positions
	if _, err := p.LogProbs([][]int32{long}); err == nil || !strings.Contains(err.Error(), "sequence 0 of 258 tokens exceeds max length 256+1") {
		t.Errorf("LogProbs of 258 tokens: err = %v", err)
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
