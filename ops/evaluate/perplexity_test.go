package evaluate

import (
	"fmt"
	"math"
	"testing"
)

// chunkedLossRelTolerance is the relative tolerance between the LM loss
// computed with the lm_head applied a few positions at a time and in one
// piece (the same float32 numbers summed in another order).
const chunkedLossRelTolerance = 1e-6

// TestLMLossChunkedEqualsWhole: perplexity with the logits computed 1, 5 or
// 31 positions at a time (ModelOptions.ChunkPositions; never the whole
// batch's [batchSize, seqLen, vocab] logits) equals the one-chunk
// computation and the fixture's Hugging Face lm_loss, on every fixture.
func TestLMLossChunkedEqualsWhole(t *testing.T) {
	for _, name := range fixtureNames {
		fx := loadTestFixture(t, name)
		lossWith := func(t *testing.T, chunk int) float64 {
			p, err := NewModelLogProber(testBackend(t), fx.model, ModelOptions{BatchSize: 3, ChunkPositions: chunk})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			res, err := LMLoss(p, fx.inputIDs, LossOptions{SeqLen: 32})
			if err != nil {
				t.Fatal(err)
			}
			return res.LMLoss
		}
		whole := lossWith(t, 1<<20)
		if math.Abs(whole-fx.lmLoss) > perplexityRelTolerance*fx.lmLoss {
			t.Errorf("%s: one chunk: loss %v, fixture lm_loss %v", name, whole, fx.lmLoss)
		}
		for _, chunk := range []int{1, 5, 31} {
			t.Run(fmt.Sprintf("%s/chunk=%d", name, chunk), func(t *testing.T) {
				if got := lossWith(t, chunk); math.Abs(got-whole) > chunkedLossRelTolerance*whole {
					t.Errorf("loss %.9g, one chunk %.9g", got, whole)
				}
			})
		}
	}
}
