package evaluate

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
)

// countingProber passes calls to a LogProber and records the batches.
type countingProber struct {
	LogProber
	calls [][][]int32
}

func (c *countingProber) LogProbs(seqs [][]int32) ([]SeqLogProbs, error) {
	c.calls = append(c.calls, seqs)
	return c.LogProber.LogProbs(seqs)
}

// TestDryRunLoss: the plan counts the windows, batches and tokens of the LM
// loss it describes (4 rows of 32 tokens), states the model's weight bytes
// and a batch's chunked activations, runs the model on the first batch only
// and estimates first batch × batches.
func TestDryRunLoss(t *testing.T) {
	fx := loadTestFixture(t, "dev-llama-gqa")
	p := newTestProber(t, fx, 3)
	var weightBytes int64
	for _, w := range fx.model.Weights {
		weightBytes += w.Shape().ByteSize()
	}
	for _, tc := range []struct {
		stride, windows, batches int
		tokens                   int64
	}{
		{0, 4, 2, 4 * 32}, // one window of 32 tokens per row
		// 7 windows per row, targets 1-5, 6-10, ..., 26-30, 31, each with
		// all its row's context: 6+11+16+21+26+31+32 = 143 tokens per row.
		{5, 28, 10, 4 * 143},
	} {
		t.Run(fmt.Sprintf("stride=%d", tc.stride), func(t *testing.T) {
			opts := LossOptions{SeqLen: 32, Stride: tc.stride}
			counting := &countingProber{LogProber: p}
			plan, err := DryRunLoss(counting, fx.inputIDs, opts)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Task != "lm_loss" || plan.Docs != 4 || plan.Sequences != tc.windows || plan.Batches != tc.batches ||
				plan.Tokens != tc.tokens || plan.MaxSeqLen != 32 || plan.BatchSize != 3 {
				t.Errorf("plan %+v, want %d windows in %d batches of 3, %d tokens, longest 32", plan, tc.windows, tc.batches, tc.tokens)
			}
			if len(counting.calls) != 1 || len(counting.calls[0]) != 3 {
				t.Errorf("the model ran %d times (%v), want once on the first batch of 3", len(counting.calls), counting.calls)
			}
			if plan.FirstBatchSeconds <= 0 || plan.EstimatedSeconds != plan.FirstBatchSeconds*float64(tc.batches) {
				t.Errorf("times: first batch %v s, estimate %v s (want %d×)", plan.FirstBatchSeconds, plan.EstimatedSeconds, tc.batches)
			}
		})
	}
	plan, err := DryRunLoss(p, fx.inputIDs, LossOptions{SeqLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	if want := fx.cfg.ChunkedForwardActivationBytes(dtypes.Float32, 3, 32); plan.WeightBytes != weightBytes || plan.ActivationBytes != want {
		t.Errorf("memory: weights %d (want %d), activations %d (want %d)", plan.WeightBytes, weightBytes, plan.ActivationBytes, want)
	}
}

// TestDryRunMC: the plan of a multiple-choice task (4 docs × 3 choices,
// contexts of 6, 11, 16, 21 tokens and continuations of 1, 3, 1) counts
// its continuations, batches and tokens; the model runs once, on the four
// longest sequences (sent first); Limit plans fewer docs.
func TestDryRunMC(t *testing.T) {
	fx := loadTestFixture(t, "dev-llama-gqa")
	var docs []Doc
	for r, row := range fx.inputIDs {
		c := 6 + 5*r
		docs = append(docs, Doc{Text: words(row[:c]), Gold: 0, Choices: []string{words(row[c : c+1]), words(row[c : c+3]), words(row[c+3 : c+4])}})
	}
	enc := &Encoder{Tok: pieceTokenizer{vocab: fx.cfg.VocabSize}, PrefixToken: 1}
	for _, tc := range []struct {
		limit, docs, seqs, batches, maxLen int
		tokens                             int64
		first                              []int // lengths of the first batch
	}{
		{0, 4, 12, 3, 24, 23 + 38 + 53 + 68, []int{24, 22, 22, 19}},
		{2, 2, 6, 2, 14, 23 + 38, []int{14, 12, 12, 9}},
	} {
		t.Run(fmt.Sprintf("limit=%d", tc.limit), func(t *testing.T) {
			counting := &countingProber{LogProber: newTestProber(t, fx, 4)}
			plan, err := DryRunMC(counting, FormatMC, enc, docs, MCOptions{Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if plan.Task != "mc" || plan.Docs != tc.docs || plan.Sequences != tc.seqs || plan.Batches != tc.batches ||
				plan.Tokens != tc.tokens || plan.MaxSeqLen != tc.maxLen {
				t.Errorf("plan %+v, want %d docs, %d sequences in %d batches, %d tokens, longest %d", plan, tc.docs, tc.seqs, tc.batches, tc.tokens, tc.maxLen)
			}
			if len(counting.calls) != 1 {
				t.Fatalf("the model ran %d times, want once", len(counting.calls))
			}
			var lens []int
			for _, s := range counting.calls[0] {
				lens = append(lens, len(s))
			}
			if !slices.Equal(lens, tc.first) {
				t.Errorf("first batch lengths %v, want %v", lens, tc.first)
			}
			if plan.EstimatedSeconds != plan.FirstBatchSeconds*float64(tc.batches) || plan.FirstBatchSeconds <= 0 {
				t.Errorf("times: first batch %v s, estimate %v s", plan.FirstBatchSeconds, plan.EstimatedSeconds)
			}
		})
	}
}
