package train

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// bigramTol: float64 sums of a few logs.
const bigramTol = 1e-12

func TestBigramHandComputed(t *testing.T) {
	b, err := NewBigram(3)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add([]int32{0, 1, 0, 1, 2}); err != nil { // pairs 01 10 01 12
		t.Fatal(err)
	}
	// P(1|0) = (2+k)/(2+3k), P(2|1) = (1+k)/(2+3k)
	k := 0.5
	want := -(math.Log((2+k)/(2+3*k)) + math.Log((1+k)/(2+3*k))) / 2
	got := b.BatchLoss([]*tensors.Tensor{tensors.FromValue([][]int32{{0, 1, 2}})}, k)
	if math.Abs(got-want) > bigramTol {
		t.Errorf("loss %g, want %g", got, want)
	}
	if err := b.Add([]int32{0, 3}); err == nil {
		t.Error("id 3 accepted with vocab 3")
	}
	rep, err := EvaluateBigram(3, []int32{0, 1, 0, 1, 2}, []*tensors.Tensor{tensors.FromValue([][]int32{{0, 1, 2}})})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BestLoss > rep.Unigram {
		t.Errorf("bigram %g worse than unigram %g on its own training pairs", rep.BestLoss, rep.Unigram)
	}
}
