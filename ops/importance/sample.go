package importance

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// tokenFileMagic starts every token file written by data.Pack.
const tokenFileMagic = "GMTOKEN1"

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
	Log           io.Writer // progress of tokenization (may be nil)
}

// SampleCalibration draws Samples windows of SeqLen tokens at seeded random
// offsets (data.Tokens.Calibration) from path, which is either a token file
// written by data.Pack (`gominitron data pack`) or a text corpus (text
// files/folders, JSON Lines, Parquet; see data.Source) that is first
// tokenized with the model's tokenizer into a temporary token file (EOS
// after every document). Token ids and the length are checked against cfg.
func SampleCalibration(path string, cfg *llm.Config, opts SampleOptions) (*Calibration, error) {
	if opts.Samples <= 0 || opts.SeqLen < 2 {
		return nil, fmt.Errorf("importance: calibration needs samples > 0 and seq-len ≥ 2, got %d and %d", opts.Samples, opts.SeqLen)
	}
	split := opts.Split
	if split == "" {
		split = data.Train
	}
	tokenPath := path
	isTokens, err := isTokenFile(path)
	if err != nil {
		return nil, err
	}
	if !isTokens {
		tmpDir, err := os.MkdirTemp("", "gominitron-calibration-")
		if err != nil {
			return nil, fmt.Errorf("importance: %w", err)
		}
		defer os.RemoveAll(tmpDir)
		tokenPath = filepath.Join(tmpDir, "calibration.tokens")
		if err := packCorpus(path, tokenPath, cfg, opts); err != nil {
			return nil, err
		}
		split = data.Train
	}
	toks, err := data.OpenTokens(tokenPath)
	if err != nil {
		return nil, err
	}
	defer toks.Close()
	if err := toks.CheckModel(cfg.VocabSize, cfg.MaxPositions, opts.SeqLen); err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	ids, err := toks.Calibration(split, opts.Samples, opts.SeqLen, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("importance: sampling %s: %w", path, err)
	}
	return &Calibration{IDs: ids}, nil
}

// isTokenFile reports whether path is a file starting with the token-file
// magic (folders and other files are corpora).
func isTokenFile(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, fmt.Errorf("importance: %w", err)
	}
	if st.IsDir() {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("importance: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(tokenFileMagic))
	n, _ := io.ReadFull(f, head)
	return bytes.Equal(head[:n], []byte(tokenFileMagic)), nil
}

// packCorpus tokenizes a text corpus into a token file (train split only).
func packCorpus(path, out string, cfg *llm.Config, opts SampleOptions) error {
	tokPath := opts.TokenizerPath
	if tokPath == "" {
		tokPath = opts.ModelDir
	}
	if tokPath == "" {
		return fmt.Errorf("importance: %s is a text corpus and needs a tokenizer (the model folder's tokenizer.json)", path)
	}
	tok, err := tokenize.Load(tokPath)
	if err != nil {
		return fmt.Errorf("importance: %s is a text corpus: %w", path, err)
	}
	eos := tok.EOS()
	if eos < 0 && len(cfg.EOSTokenIDs) > 0 {
		eos = int32(cfg.EOSTokenIDs[0])
	}
	if eos < 0 {
		return fmt.Errorf("importance: tokenizer %s and the model config name no EOS token to separate documents; pack the corpus with `gominitron data pack --eos ID` and pass the token file", tokPath)
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	_, err = data.Pack(data.PackOptions{Sources: []data.Source{{Path: path}}, Tokenizer: tok, Out: out, EOS: eos, Seed: opts.Seed, Log: log})
	if err != nil {
		return fmt.Errorf("importance: tokenizing %s: %w", path, err)
	}
	return nil
}
