package importance

import (
	"fmt"
	"io"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
)

// SampleOptions configures SampleCalibration.
type SampleOptions struct {
	Samples int    // calibration sequences (Minitron: 1024)
	SeqLen  int    // tokens per sequence
	Seed    uint64 // sampling seed
	Split   string // token-file split (default data.Train)
	// TokenizerPath (file or folder) is used when path is a text corpus;
	// default: the model folder.
	TokenizerPath string
	ModelDir      string    // model folder (tokenizer default)
	CacheDir      string    // packed text corpora (default: data.CorpusTokenFile's)
	Log           io.Writer // progress of tokenization (may be nil)
}

// SampleCalibration draws Samples windows of SeqLen tokens at seeded random
// offsets (data.Tokens.Calibration) from path, which is either a token file
// written by data.Pack (`gominitron data pack`) or a text corpus (text
// files/folders, JSON Lines, Parquet; see data.Source) that is first
// tokenized with the model's tokenizer into a cached token file (EOS after
// every document; data.OpenCorpus). Token ids and the length are checked against cfg.
func SampleCalibration(path string, cfg *llm.Config, opts SampleOptions) (*Calibration, error) {
	if opts.Samples <= 0 || opts.SeqLen < 2 {
		return nil, fmt.Errorf("importance: calibration needs samples > 0 and seq-len ≥ 2, got %d and %d", opts.Samples, opts.SeqLen)
	}
	split := opts.Split
	if split == "" {
		split = data.Train
	}
	isTokens, err := data.IsTokenFile(path)
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	if !isTokens {
		split = data.Train // a packed text corpus has no validation split
	}
	tokPath := opts.TokenizerPath
	if tokPath == "" {
		tokPath = opts.ModelDir
	}
	toks, err := data.OpenCorpus(path, data.CorpusOptions{TokenizerPath: tokPath, FallbackEOS: cfg.EOSTokenIDs,
		CacheDir: opts.CacheDir, Log: opts.Log})
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	defer toks.Close()
	if err := toks.CheckModel(cfg.VocabSize, cfg.MaxPositions, opts.SeqLen); err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	idBytes := llm.SaturatingProduct(int64(opts.Samples), int64(opts.SeqLen)*4+24) // int32 rows + slice headers
	if err := llm.CheckFits(fmt.Sprintf("importance: %d calibration samples × %d tokens", opts.Samples, opts.SeqLen), idBytes); err != nil {
		return nil, err
	}
	ids, err := toks.Calibration(split, opts.Samples, opts.SeqLen, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("importance: sampling %s: %w", path, err)
	}
	return &Calibration{IDs: ids}, nil
}
