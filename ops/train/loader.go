package train

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
)

// Batches is a resumable source of micro-batches of token ids.
type Batches interface {
	// Next returns the next micro-batch, [batchSize, seqLen] int32.
	Next() (*tensors.Tensor, error)
	// State returns the position after the last batch returned, as JSON
	// (saved in checkpoints).
	State() (json.RawMessage, error)
	// Restore moves to a position returned by State.
	Restore(state json.RawMessage) error
}

// LoaderState is the position of a SequenceLoader: the shuffle seed, the
// epoch and the index of the next sequence in that epoch's order.
type LoaderState struct {
	Seed  uint64 `json:"seed"`
	Epoch int    `json:"epoch"`
	Index int    `json:"index"`
}

// SequenceLoader serves batches of packed, equal-length sequences in a
// seeded random order that is reshuffled every epoch (order of epoch e is a
// permutation drawn from PCG(seed, e), so any position can be restored
// without replaying). The last incomplete batch of an epoch is dropped.
type SequenceLoader struct {
	seqs      [][]int32
	batchSize int
	seqLen    int
	state     LoaderState
	order     []int // permutation for state.Epoch
}

// NewSequenceLoader checks that all sequences have the same length and that
// there is at least one full batch.
func NewSequenceLoader(seqs [][]int32, batchSize int, seed uint64) (*SequenceLoader, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("train: batch size must be > 0, got %d", batchSize)
	}
	if len(seqs) < batchSize {
		return nil, fmt.Errorf("train: %d sequences cannot fill one batch of %d", len(seqs), batchSize)
	}
	seqLen := len(seqs[0])
	for i, s := range seqs {
		if len(s) != seqLen || seqLen < 2 {
			return nil, fmt.Errorf("train: sequence %d has length %d, want %d (≥ 2) like sequence 0", i, len(s), seqLen)
		}
	}
	l := &SequenceLoader{seqs: seqs, batchSize: batchSize, seqLen: seqLen}
	if err := l.restore(LoaderState{Seed: seed}); err != nil {
		return nil, err
	}
	return l, nil
}

// BatchesPerEpoch returns the number of full batches in one epoch.
func (l *SequenceLoader) BatchesPerEpoch() int { return len(l.seqs) / l.batchSize }

// SeqLen returns the sequence length.
func (l *SequenceLoader) SeqLen() int { return l.seqLen }

// State implements Batches.
func (l *SequenceLoader) State() (json.RawMessage, error) { return json.Marshal(l.state) }

// Restore implements Batches.
func (l *SequenceLoader) Restore(state json.RawMessage) error {
	var s LoaderState
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("train: loader state %s: %w", state, err)
	}
	return l.restore(s)
}

// Position returns the loader's position.
func (l *SequenceLoader) Position() LoaderState { return l.state }

func (l *SequenceLoader) restore(s LoaderState) error {
	if s.Epoch < 0 || s.Index < 0 || s.Index > len(l.seqs) {
		return fmt.Errorf("train: loader state %+v out of range (%d sequences)", s, len(l.seqs))
	}
	l.state = s
	l.order = rand.New(rand.NewPCG(s.Seed, uint64(s.Epoch))).Perm(len(l.seqs))
	return nil
}

// Next implements Batches.
func (l *SequenceLoader) Next() (*tensors.Tensor, error) {
	if l.state.Index+l.batchSize > len(l.seqs) {
		if err := l.restore(LoaderState{Seed: l.state.Seed, Epoch: l.state.Epoch + 1}); err != nil {
			return nil, err
		}
	}
	flat := make([]int32, 0, l.batchSize*l.seqLen)
	for _, i := range l.order[l.state.Index : l.state.Index+l.batchSize] {
		flat = append(flat, l.seqs[i]...)
	}
	l.state.Index += l.batchSize
	return tensors.FromFlatDataAndDimensions(flat, l.batchSize, l.seqLen), nil
}

// FixedBatches splits seqs in order into batches of batchSize (the last one
// may be smaller), e.g. for a validation set evaluated the same way every time.
func FixedBatches(seqs [][]int32, batchSize int) []*tensors.Tensor {
	var out []*tensors.Tensor
	for start := 0; start < len(seqs); start += batchSize {
		end := min(start+batchSize, len(seqs))
		flat := make([]int32, 0, (end-start)*len(seqs[start]))
		for _, s := range seqs[start:end] {
			flat = append(flat, s...)
		}
		out = append(out, tensors.FromFlatDataAndDimensions(flat, end-start, len(seqs[start])))
	}
	return out
}
