package evaluate

import (
	"math"
	"testing"
)

func TestBlockSweepMC(t *testing.T) {
	fx := loadTestFixture(t, "dev-llama3-headdim-tied-bf16") // 3 layers
	docs, err := ReadTask(taskPath("arc.jsonl"), FormatARC)
	if err != nil {
		t.Fatal(err)
	}
	more, _ := ReadTask(taskPath("piqa.jsonl"), FormatPIQA)
	docs = append(docs, more...)
	enc := &Encoder{Tok: pieceTokenizer{vocab: fx.cfg.VocabSize}, PrefixToken: 1}
	var calls []int
	got, err := BlockSweepMC(testBackend(t), fx.model, enc, docs, BlockSweepOptions{
		BlockSize: 2, Metric: "acc_norm", Task: "arc+piqa", Model: ModelOptions{BatchSize: 4},
		Progress: func(s int, _ float64) { calls = append(calls, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Values) != 2 || got.BlockSize != 2 || got.Metric != "acc_norm" || !got.HigherIsBetter || got.Baseline == nil {
		t.Fatalf("block scores %+v", got)
	}
	if len(calls) != 3 || calls[0] != -1 {
		t.Errorf("progress calls %v, want [-1 0 1]", calls)
	}
	prompts, _ := Contexts(docs, len(docs), 0, 0)
	for s, skip := range [][]bool{{true, true, false}, {false, true, true}} {
		o := newOracle(t, fx, skip...)
		want := make([][]float64, len(docs))
		for i, pairs := range prompts {
			for _, p := range pairs {
				want[i] = append(want[i], o.logLik(p[0], p[1]))
			}
		}
		exp := ScoreMC(docs, want)
		if math.Abs(got.Values[s]-exp.AccNorm) > 1e-12 {
			// A near-tie could flip one doc; report with the margins.
			t.Errorf("block %d: acc_norm %v, oracle %v (logliks %v)", s, got.Values[s], exp.AccNorm, want)
		}
	}
	if _, err := BlockSweepMC(testBackend(t), fx.model, enc, docs, BlockSweepOptions{BlockSize: 3}); err == nil {
		t.Error("removing every layer: no error")
	}
}
