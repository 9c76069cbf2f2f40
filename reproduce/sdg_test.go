package reproduce

import (
	"slices"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
)

// TestSyntheticSequencesSeeded: the teacher's text is SeqLen+1 tokens per
// sequence, starts with its prompt, is the same for the same seed and
// differs for another seed (the prompts are drawn by the seed), and is
// sampled, not the teacher's greedy continuation of the same prompts.
func TestSyntheticSequencesSeeded(t *testing.T) {
	e := openSmoke(t)
	const n, promptLen = 5, 4
	a, err := e.SyntheticSequences(e.Teacher, n, promptLen, 1)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.SyntheticSequences(e.Teacher, n, promptLen, 1)
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.SyntheticSequences(e.Teacher, n, promptLen, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != n {
		t.Fatalf("%d sequences, want %d", len(a), n)
	}
	prompts, err := e.tokens.Calibration("train", n, promptLen, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, seq := range a {
		if len(seq) != e.Sizes.SeqLen+1 || !slices.Equal(seq[:promptLen], prompts[i]) {
			t.Errorf("sequence %d: %d tokens starting %v, want %d starting with its prompt %v", i, len(seq), seq[:promptLen], e.Sizes.SeqLen+1, prompts[i])
		}
		if !slices.Equal(seq, again[i]) {
			t.Errorf("sequence %d differs between two runs with seed 1", i)
		}
	}
	if slices.EqualFunc(a, other, slices.Equal) {
		t.Error("seeds 1 and 2 gave the same text")
	}
	runner, err := llm.NewRunner(e.Backend, e.Teacher)
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	greedy, err := runner.Generate(prompts, llm.GenerateOptions{MaxNewTokens: e.Sizes.SeqLen + 1 - promptLen})
	if err != nil {
		t.Fatal(err)
	}
	if slices.EqualFunc(a, greedy, slices.Equal) {
		t.Error("the synthetic text equals the greedy continuation: not sampled")
	}
	if _, err := e.SyntheticSequences(e.Teacher, n, e.Sizes.SeqLen+1, 1); err == nil {
		t.Error("a prompt as long as the sequence was accepted")
	}
}
