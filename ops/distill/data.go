package distill

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/data"
)

// tokenBatches adapts a split of a token file (ops/data) to train.Batches:
// [batchSize, seqLen+1] int32 rows of consecutive tokens, seeded order
// reshuffled every epoch, endless, resumable. (ops/train has the same
// adapter in progress; this one keeps the package buildable on its own.)
type tokenBatches struct {
	tokens *data.Tokens
	opts   data.BatchOptions
	it     *data.BatchIterator
}

func newTokenBatches(tokens *data.Tokens, opts data.BatchOptions) (*tokenBatches, error) {
	it, err := tokens.Batches(opts, nil)
	if err != nil {
		return nil, err
	}
	return &tokenBatches{tokens: tokens, opts: opts, it: it}, nil
}

// Next implements train.Batches.
func (b *tokenBatches) Next() (*tensors.Tensor, error) {
	rows, err := b.it.Next()
	if err != nil {
		return nil, err
	}
	return rowsTensor(rows), nil
}

// State implements train.Batches.
func (b *tokenBatches) State() (json.RawMessage, error) { return json.Marshal(b.it.State()) }

// Restore implements train.Batches.
func (b *tokenBatches) Restore(state json.RawMessage) error {
	var s data.State
	if err := json.Unmarshal(state, &s); err != nil {
		return fmt.Errorf("distill: data state %s: %w", state, err)
	}
	it, err := b.tokens.Batches(b.opts, &s)
	if err != nil {
		return err
	}
	b.it = it
	return nil
}

// valBatches reads the first maxBatches (0: all) full batches of split in
// file order: a fixed validation set.
func valBatches(tokens *data.Tokens, split string, batchSize, seqLen, maxBatches int) ([]*tensors.Tensor, error) {
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
		return nil, fmt.Errorf("distill: %s: split %q has no full batch of %d×%d tokens", tokens.Path, split, batchSize, seqLen+1)
	}
	return out, nil
}

func rowsTensor(rows [][]int32) *tensors.Tensor {
	flat := make([]int32, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return tensors.FromFlatDataAndDimensions(flat, len(rows), len(rows[0]))
}
