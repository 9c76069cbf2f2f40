package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/data"
)

// TokenBatches adapts a split of a token file (ops/data, written by
// `gominitron data pack`) to Batches: rows of SeqLen+1 consecutive tokens
// (the model sees SeqLen+1 positions and predicts SeqLen next tokens), in a
// seeded order reshuffled every epoch, endless.
type TokenBatches struct {
	tokens *data.Tokens
	opts   data.BatchOptions
	it     *data.BatchIterator
}

// NewTokenBatches opens the iterator over opts.Split (Shuffle and Epochs as
// given; for training use Shuffle true, Epochs 0).
func NewTokenBatches(tokens *data.Tokens, opts data.BatchOptions) (*TokenBatches, error) {
	it, err := tokens.Batches(opts, nil)
	if err != nil {
		return nil, err
	}
	return &TokenBatches{tokens: tokens, opts: opts, it: it}, nil
}

// NumSequences is the number of sequences per epoch.
func (b *TokenBatches) NumSequences() int { return b.it.NumSequences() }

// Next implements Batches: [batchSize, seqLen+1] int32.
func (b *TokenBatches) Next() (*tensors.Tensor, error) {
	rows, err := b.it.Next()
	if err != nil {
		return nil, err
	}
	return rowsTensor(rows), nil
}

// State implements Batches.
func (b *TokenBatches) State() (json.RawMessage, error) { return json.Marshal(b.it.State()) }

// Restore implements Batches.
func (b *TokenBatches) Restore(state json.RawMessage) error {
	var s data.State
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("train: data state %s: %w", state, err)
	}
	it, err := b.tokens.Batches(b.opts, &s)
	if err != nil {
		return err
	}
	b.it = it
	return nil
}

// ValBatches reads the first maxBatches (0: all) full batches of split in
// file order, [batchSize, seqLen+1] each: a fixed validation set.
func ValBatches(tokens *data.Tokens, split string, batchSize, seqLen, maxBatches int) ([]*tensors.Tensor, error) {
	it, err := tokens.Batches(data.BatchOptions{Split: split, BatchSize: batchSize, SeqLen: seqLen, Epochs: 1}, nil)
	if err != nil {
		return nil, err
	}
	var out []*tensors.Tensor
	for maxBatches <= 0 || len(out) < maxBatches {
		rows, err := it.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rows) < batchSize { // keep one compiled shape
			break
		}
		out = append(out, rowsTensor(rows))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("train: %s: split %q has no full batch of %d×%d tokens", tokens.Path, split, batchSize, seqLen+1)
	}
	return out, nil
}

// rowsTensor packs equal-length rows into a [len(rows), len(rows[0])] int32
// tensor (a batch of token rows).
func rowsTensor(rows [][]int32) *tensors.Tensor {
	flat := make([]int32, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return tensors.FromFlatDataAndDimensions(flat, len(rows), len(rows[0]))
}
