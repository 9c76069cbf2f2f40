package importance

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
)

// Calibration is the token data of a pass: samples of one length, right
// padded where a sample is shorter.
type Calibration struct {
	IDs     [][]int32 // [samples][seqLen]
	Lengths []int     // valid tokens of each sample (≥ 1); nil = all seqLen
}

// SeqLen is the (padded) length of the samples.
func (c *Calibration) SeqLen() int {
	if len(c.IDs) == 0 {
		return 0
	}
	return len(c.IDs[0])
}

// Validate checks shapes, lengths and token ids against the vocabulary
// (vocab ≤ 0 skips the id check).
func (c *Calibration) Validate(vocab int) error {
	if len(c.IDs) == 0 {
		return fmt.Errorf("importance: calibration set is empty")
	}
	seqLen := c.SeqLen()
	if seqLen < 2 {
		return fmt.Errorf("importance: calibration sequences have length %d, need at least 2", seqLen)
	}
	if c.Lengths != nil && len(c.Lengths) != len(c.IDs) {
		return fmt.Errorf("importance: %d lengths for %d calibration samples", len(c.Lengths), len(c.IDs))
	}
	for i, row := range c.IDs {
		if len(row) != seqLen {
			return fmt.Errorf("importance: calibration sample %d has %d tokens, sample 0 has %d (pad to one length and set Lengths)", i, len(row), seqLen)
		}
		if c.Lengths != nil && (c.Lengths[i] < 1 || c.Lengths[i] > seqLen) {
			return fmt.Errorf("importance: calibration sample %d has length %d, want 1..%d", i, c.Lengths[i], seqLen)
		}
		if vocab > 0 {
			for j, id := range row {
				if id < 0 || int(id) >= vocab {
					return fmt.Errorf("importance: calibration sample %d position %d has token id %d outside the vocabulary [0, %d)", i, j, id, vocab)
				}
			}
		}
	}
	return nil
}

// Tokens is the number of valid tokens.
func (c *Calibration) Tokens() int64 {
	if c.Lengths == nil {
		return int64(len(c.IDs)) * int64(c.SeqLen())
	}
	var n int64
	for _, l := range c.Lengths {
		n += int64(l)
	}
	return n
}

// batch is one graph execution's input.
type batch struct {
	ids   *tensors.Tensor // [batchSize, seqLen] int32
	valid *tensors.Tensor // [batchSize, seqLen] bool; nil when no row is padded
	rows  int
}

// numBatches is how many batches of at most batchSize samples there are.
func (c *Calibration) numBatches(batchSize int) int {
	return (len(c.IDs) + batchSize - 1) / batchSize
}

// batch builds batch i of at most batchSize consecutive samples (the last
// one may be smaller). Tensors are built on demand so that host memory does
// not grow with the number of batches.
func (c *Calibration) batch(i, batchSize int) *batch {
	seqLen := c.SeqLen()
	start := i * batchSize
	end := min(start+batchSize, len(c.IDs))
	n := end - start
	ids := make([]int32, 0, n*seqLen)
	padded := false
	for i := start; i < end; i++ {
		ids = append(ids, c.IDs[i]...)
		if c.Lengths != nil && c.Lengths[i] < seqLen {
			padded = true
		}
	}
	b := &batch{ids: tensors.FromFlatDataAndDimensions(ids, n, seqLen), rows: n}
	if padded {
		valid := make([]bool, n*seqLen)
		for i := start; i < end; i++ {
			for j := range c.Lengths[i] {
				valid[(i-start)*seqLen+j] = true
			}
		}
		b.valid = tensors.FromFlatDataAndDimensions(valid, n, seqLen)
	}
	return b
}

func (b *batch) finalize() {
	b.ids.FinalizeAll()
	if b.valid != nil {
		b.valid.FinalizeAll()
	}
}
