package data

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gominitron/gominitron/ops/tokenize"
)

// PackOptions configures Pack.
type PackOptions struct {
	Sources   []Source
	Tokenizer *tokenize.Tokenizer
	Out       string // token file to write (atomically)
	// ValFraction of the documents (by a seeded hash of their text) goes to
	// the "val" split; the rest to "train". Default 0 means no validation.
	ValFraction float64
	Seed        uint64
	AddBOS      bool  // prepend the tokenizer's BOS to every document
	EOS         int32 // separator appended to every document; -1: tokenizer's EOS
	Workers     int   // tokenization goroutines (default GOMAXPROCS)
	Log         io.Writer
}

// PackStats reports what Pack wrote.
type PackStats struct {
	Documents       int64   `json:"documents"`
	TrainDocuments  int64   `json:"train_documents"`
	ValDocuments    int64   `json:"val_documents"`
	TrainTokens     int64   `json:"train_tokens"`
	ValTokens       int64   `json:"val_tokens"`
	TextBytes       int64   `json:"text_bytes"`
	Seconds         float64 `json:"seconds"`
	TokensPerSecond float64 `json:"tokens_per_second"`
}

// IsValidation reports whether a document goes to the validation split: a
// 64-bit FNV-1a hash of (seed, text) mapped to [0, 1) below fraction. It
// depends only on the text, so duplicates land in the same split.
func IsValidation(text string, seed uint64, fraction float64) bool {
	if fraction <= 0 {
		return false
	}
	h := fnv.New64a()
	var sb [8]byte
	for i := range sb {
		sb[i] = byte(seed >> (8 * i))
	}
	h.Write(sb[:])
	io.WriteString(h, text)
	return float64(h.Sum64()>>11)/float64(1<<53) < fraction
}

type packChunk struct {
	docs []Document
	ids  [][]int32
	done chan struct{}
}

const packChunkDocs = 16

// Pack tokenizes documents, appends EOS (and optionally prepends BOS), and
// streams them into a token file with "train" and "val" splits. Memory use is
// bounded by a few chunks of documents, whatever the corpus size.
func Pack(opts PackOptions) (*PackStats, error) {
	tok := opts.Tokenizer
	if tok == nil {
		return nil, errors.New("pack: no tokenizer")
	}
	if opts.Out == "" {
		return nil, errors.New("pack: no output file")
	}
	if len(opts.Sources) == 0 {
		return nil, errors.New("pack: no input")
	}
	if opts.ValFraction < 0 || opts.ValFraction >= 1 {
		return nil, fmt.Errorf("pack: validation fraction %g must be in [0, 1)", opts.ValFraction)
	}
	eos := opts.EOS
	if eos < 0 {
		eos = tok.EOS()
	}
	if eos < 0 || int(eos) >= tok.VocabSize() {
		return nil, fmt.Errorf("pack: EOS id %d is not in the vocabulary of %s (size %d); name one with PackOptions.EOS", eos, tok.Path(), tok.VocabSize())
	}
	bos := int32(-1)
	if opts.AddBOS {
		if bos = tok.BOS(); bos < 0 {
			return nil, fmt.Errorf("pack: tokenizer %s has no BOS token", tok.Path())
		}
	}
	dtype, width := "uint16", 2
	if tok.VocabSize() > math.MaxUint16+1 {
		dtype, width = "uint32", 4
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	dir := filepath.Dir(opts.Out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	sinks := map[string]*tokenSink{}
	for _, name := range []string{Train, Val} {
		s, err := newTokenSink(dir, width)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		defer s.discard()
		sinks[name] = s
	}
	start := time.Now()
	stats := &PackStats{}
	maxID := int32(-1)

	jobs := make(chan *packChunk, workers*2)
	ordered := make(chan *packChunk, workers*4)
	for w := 0; w < workers; w++ {
		go func() {
			for c := range jobs {
				c.ids = make([][]int32, len(c.docs))
				for i, d := range c.docs {
					ids := make([]int32, 0, len(d.Text)/3+2)
					if bos >= 0 {
						ids = append(ids, bos)
					}
					ids = append(ids, tok.Encode(d.Text, false)...)
					c.ids[i] = append(ids, eos)
				}
				close(c.done)
			}
		}()
	}
	writeErr := make(chan error, 1)
	go func() {
		var err error
		for c := range ordered {
			<-c.done
			if err != nil {
				continue // drain
			}
			for i, d := range c.docs {
				split := Train
				if IsValidation(d.Text, opts.Seed, opts.ValFraction) {
					split = Val
				}
				for _, id := range c.ids[i] {
					maxID = max(maxID, id)
				}
				if err = sinks[split].write(c.ids[i]); err != nil {
					err = fmt.Errorf("pack: writing tokens: %w", err)
					break
				}
				stats.Documents++
				stats.TextBytes += int64(len(d.Text))
			}
		}
		writeErr <- err
	}()
	cur := &packChunk{done: make(chan struct{})}
	send := func() {
		if len(cur.docs) > 0 {
			ordered <- cur
			jobs <- cur
			cur = &packChunk{done: make(chan struct{})}
		}
	}
	var readErr error
	for _, src := range opts.Sources {
		readErr = ReadDocuments(src, func(d Document) error {
			cur.docs = append(cur.docs, d)
			if len(cur.docs) == packChunkDocs {
				send()
			}
			return nil
		})
		if readErr != nil {
			break
		}
	}
	send()
	close(jobs)
	close(ordered)
	if err := <-writeErr; err != nil {
		return nil, err
	}
	if readErr != nil {
		return nil, readErr
	}
	if stats.Documents == 0 {
		return nil, errors.New("pack: the inputs have no documents")
	}
	var names []string
	for _, s := range opts.Sources {
		names = append(names, s.Path)
	}
	h := TokenHeader{Version: 1, DType: dtype, VocabSize: tok.VocabSize(), MaxTokenID: maxID, BOS: bos, EOS: eos,
		Tokenizer: tok.Path(), Seed: opts.Seed, ValFrac: opts.ValFraction, Sources: names}
	if err := writeTokenFile(opts.Out, h, []string{Train, Val}, sinks); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	stats.TrainDocuments, stats.ValDocuments = sinks[Train].docs, sinks[Val].docs
	stats.TrainTokens, stats.ValTokens = sinks[Train].tokens, sinks[Val].tokens
	stats.Seconds = time.Since(start).Seconds()
	stats.TokensPerSecond = float64(stats.TrainTokens+stats.ValTokens) / stats.Seconds
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "packed %d documents (%d val) into %s: %d train + %d val tokens in %.1fs (%.0f tokens/s)\n",
			stats.Documents, stats.ValDocuments, opts.Out, stats.TrainTokens, stats.ValTokens, stats.Seconds, stats.TokensPerSecond)
	}
	return stats, nil
}
