package train

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"
)

// Bigram is a count-based bigram language model with add-k smoothing:
//
//	P(b | a) = (count(a, b) + k) / (count(a) + k·vocab)
//
// the baseline a trained teacher must beat.
type Bigram struct {
	Vocab  int
	counts []int32 // [vocab·vocab] pair counts, row a
	totals []int64 // [vocab] count(a) as a left token
}

// maxBigramVocab bounds the dense count table (vocab² int32).
const maxBigramVocab = 1 << 14

// NewBigram returns an empty model over ids in [0, vocab).
func NewBigram(vocab int) (*Bigram, error) {
	if vocab <= 0 || vocab > maxBigramVocab {
		return nil, fmt.Errorf("train: bigram vocab %d outside (0, %d]", vocab, maxBigramVocab)
	}
	return &Bigram{Vocab: vocab, counts: make([]int32, vocab*vocab), totals: make([]int64, vocab)}, nil
}

// Add counts every consecutive pair of ids.
func (b *Bigram) Add(ids []int32) error {
	for i := 0; i+1 < len(ids); i++ {
		x, y := ids[i], ids[i+1]
		if x < 0 || y < 0 || int(x) >= b.Vocab || int(y) >= b.Vocab {
			return fmt.Errorf("train: bigram: token id pair (%d, %d) outside vocab %d", x, y, b.Vocab)
		}
		b.counts[int(x)*b.Vocab+int(y)]++
		b.totals[x]++
	}
	return nil
}

// NLL returns the summed negative log-likelihood (nats) of ids[1:] given
// the previous token, and the number of predictions.
func (b *Bigram) NLL(ids []int32, k float64) (sum float64, n int64) {
	for i := 0; i+1 < len(ids); i++ {
		x, y := int(ids[i]), int(ids[i+1])
		p := (float64(b.counts[x*b.Vocab+y]) + k) / (float64(b.totals[x]) + k*float64(b.Vocab))
		sum -= math.Log(p)
		n++
	}
	return sum, n
}

// BatchLoss is the mean next-token NLL over the rows of [batchSize, seqLen]
// int32 batches — the same predictions the LM loss averages over.
func (b *Bigram) BatchLoss(batches []*tensors.Tensor, k float64) float64 {
	var sum float64
	var n int64
	for _, t := range batches {
		rows := t.Value().([][]int32)
		for _, r := range rows {
			s, c := b.NLL(r, k)
			sum += s
			n += c
		}
	}
	return sum / float64(n)
}

// BigramReport compares smoothing constants on the validation batches.
type BigramReport struct {
	Vocab       int                `json:"vocab"`
	TrainTokens int64              `json:"train_tokens"`
	LossByK     map[string]float64 `json:"val_loss_by_k"` // k → mean val NLL (nats)
	BestK       float64            `json:"best_k"`
	BestLoss    float64            `json:"best_val_loss"`
	Unigram     float64            `json:"unigram_val_loss"` // add-1 unigram, for scale
}

// BigramKs are the smoothing constants tried by EvaluateBigram; the best
// one on the validation batches is reported (generous to the baseline).
var BigramKs = []float64{0.001, 0.01, 0.1, 1}

// EvaluateBigram counts train (one token stream) and reports the add-k
// validation loss over val batches for each k in BigramKs.
func EvaluateBigram(vocab int, train []int32, val []*tensors.Tensor) (*BigramReport, error) {
	b, err := NewBigram(vocab)
	if err != nil {
		return nil, err
	}
	if err := b.Add(train); err != nil {
		return nil, err
	}
	rep := &BigramReport{Vocab: vocab, TrainTokens: int64(len(train)), LossByK: map[string]float64{}, BestLoss: math.Inf(1)}
	for _, k := range BigramKs {
		l := b.BatchLoss(val, k)
		rep.LossByK[fmt.Sprint(k)] = l
		if l < rep.BestLoss {
			rep.BestLoss, rep.BestK = l, k
		}
	}
	uni := make([]int64, vocab)
	for _, id := range train {
		uni[id]++
	}
	var sum float64
	var n int64
	for _, t := range val {
		for _, r := range t.Value().([][]int32) {
			for _, y := range r[1:] {
				sum -= math.Log((float64(uni[y]) + 1) / (float64(len(train)) + float64(vocab)))
				n++
			}
		}
	}
	rep.Unigram = sum / float64(n)
	return rep, nil
}
