package data

import (
	"errors"
	"fmt"
	"io"
)

// BatchOptions configures Batches.
type BatchOptions struct {
	Split     string // Train or Val
	BatchSize int
	SeqLen    int    // model positions per row; each row holds SeqLen+1 tokens
	Seed      uint64 // shuffling seed
	Shuffle   bool   // false: sequences in file order (evaluation)
	Epochs    int    // stop with io.EOF after this many passes (0: endless)
	// Checks against the model (0 skips): every token id < VocabSize, SeqLen
	// <= MaxContext.
	VocabSize  int
	MaxContext int
}

// State is the position of a Batches iterator; save it with a checkpoint and
// pass it back in Resume to continue with exactly the next batch.
type State struct {
	Split     string `json:"split"`
	SeqLen    int    `json:"seq_len"`
	BatchSize int    `json:"batch_size"`
	Seed      uint64 `json:"seed"`
	Shuffle   bool   `json:"shuffle"`
	Epoch     int    `json:"epoch"` // current pass (0-based)
	Index     int    `json:"index"` // next position in this epoch's order
}

// BatchIterator yields [BatchSize][SeqLen+1] windows of a split. Sequence k is
// tokens [k*SeqLen, k*SeqLen+SeqLen+1) of the split (consecutive windows share
// one token, so inputs row[:SeqLen] and targets row[1:] cover every token);
// each epoch visits every sequence once in a seeded order (or file order).
type BatchIterator struct {
	tokens *Tokens
	opts   BatchOptions
	numSeq int
	order  []int32 // permutation of the current epoch (nil: file order)
	state  State
}

// Batches starts an iterator at the beginning, or at resume if not nil.
func (t *Tokens) Batches(opts BatchOptions, resume *State) (*BatchIterator, error) {
	if opts.Split == "" {
		opts.Split = Train
	}
	n, err := t.SplitLen(opts.Split)
	if err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 || opts.SeqLen <= 0 {
		return nil, fmt.Errorf("batches: batch size %d and sequence length %d must be positive", opts.BatchSize, opts.SeqLen)
	}
	if err := t.CheckModel(opts.VocabSize, opts.MaxContext, opts.SeqLen); err != nil {
		return nil, err
	}
	numSeq := 0
	if n > 0 {
		numSeq = int((n - 1) / int64(opts.SeqLen))
	}
	if numSeq == 0 {
		return nil, fmt.Errorf("token file %s: split %q has %d tokens, fewer than one sequence of %d+1", t.Path, opts.Split, n, opts.SeqLen)
	}
	it := &BatchIterator{tokens: t, opts: opts, numSeq: numSeq,
		state: State{Split: opts.Split, SeqLen: opts.SeqLen, BatchSize: opts.BatchSize, Seed: opts.Seed, Shuffle: opts.Shuffle}}
	if resume != nil {
		r := *resume
		if r.Split != opts.Split || r.SeqLen != opts.SeqLen || r.BatchSize != opts.BatchSize || r.Seed != opts.Seed || r.Shuffle != opts.Shuffle {
			return nil, fmt.Errorf("batches: resume state %+v does not match the options (split %q, seq len %d, batch %d, seed %d, shuffle %v)",
				r, opts.Split, opts.SeqLen, opts.BatchSize, opts.Seed, opts.Shuffle)
		}
		if r.Epoch < 0 || r.Index < 0 || r.Index > numSeq {
			return nil, fmt.Errorf("batches: resume state epoch %d index %d outside [0, %d]", r.Epoch, r.Index, numSeq)
		}
		it.state = r
	}
	it.setEpoch(it.state.Epoch)
	return it, nil
}

func (it *BatchIterator) setEpoch(e int) {
	it.state.Epoch = e
	if it.opts.Shuffle {
		it.order = newRNG(it.opts.Seed, uint64(e)+1).perm(it.numSeq)
	}
}

// NumSequences is the number of sequences per epoch.
func (it *BatchIterator) NumSequences() int { return it.numSeq }

// State returns the position to resume from (after the last returned batch).
func (it *BatchIterator) State() State { return it.state }

// Next returns the next batch [BatchSize][SeqLen+1]. Batches run across epoch
// boundaries; with Epochs > 0 the last batch may be smaller, then io.EOF.
func (it *BatchIterator) Next() ([][]int32, error) {
	var batch [][]int32
	for len(batch) < it.opts.BatchSize {
		if it.state.Index >= it.numSeq {
			if it.opts.Epochs > 0 && it.state.Epoch+1 >= it.opts.Epochs {
				break
			}
			it.state.Index = 0
			it.setEpoch(it.state.Epoch + 1)
		}
		k := it.state.Index
		if it.order != nil {
			k = int(it.order[k])
		}
		row := make([]int32, it.opts.SeqLen+1)
		if err := it.tokens.Read(it.opts.Split, int64(k)*int64(it.opts.SeqLen), row); err != nil {
			return nil, err
		}
		batch = append(batch, row)
		it.state.Index++
	}
	if len(batch) == 0 {
		return nil, io.EOF
	}
	return batch, nil
}

// InputsTargets splits rows of SeqLen+1 tokens into inputs row[:SeqLen] and
// next-token targets row[1:], flattened for a [batch, seqLen] tensor.
func InputsTargets(batch [][]int32) (inputs, targets []int32, err error) {
	if len(batch) == 0 {
		return nil, nil, errors.New("empty batch")
	}
	n := len(batch[0]) - 1
	for i, row := range batch {
		if len(row) != n+1 {
			return nil, nil, fmt.Errorf("batch row %d has %d tokens, row 0 has %d", i, len(row), n+1)
		}
		inputs = append(inputs, row[:n]...)
		targets = append(targets, row[1:]...)
	}
	return inputs, targets, nil
}

// Calibration draws n windows of seqLen tokens at uniformly random offsets of
// a split (seeded; with replacement), e.g. Minitron's 1024 × seq_len
// calibration set. Returns [n][seqLen].
func (t *Tokens) Calibration(split string, n, seqLen int, seed uint64) ([][]int32, error) {
	total, err := t.SplitLen(split)
	if err != nil {
		return nil, err
	}
	if n <= 0 || seqLen <= 0 {
		return nil, fmt.Errorf("calibration: count %d and length %d must be positive", n, seqLen)
	}
	if total < int64(seqLen) {
		return nil, fmt.Errorf("token file %s: split %q has %d tokens, fewer than one calibration sequence of %d", t.Path, split, total, seqLen)
	}
	r := newRNG(seed, 0xCA11B)
	out := make([][]int32, n)
	for i := range out {
		start := int64(r.intn(uint64(total - int64(seqLen) + 1)))
		out[i] = make([]int32, seqLen)
		if err := t.Read(split, start, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
