package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// CorpusCacheDir is the folder under the data dir where CorpusTokenFile keeps
// packed text corpora.
const CorpusCacheDir = "token-cache"

// CorpusOptions configures CorpusTokenFile / OpenCorpus when a path is a text
// corpus (a token file is used as-is and these are ignored).
type CorpusOptions struct {
	// Tokenizer packs the text; when nil, TokenizerPath (tokenizer.json or a
	// folder holding one) is loaded.
	Tokenizer     *tokenize.Tokenizer
	TokenizerPath string
	// Sources override how the corpus is read (text mode, format, field);
	// default: one Source{Path: path} per path with Field.
	Sources []Source
	Field   string // JSON Lines field / Parquet column (default "text")
	// FallbackEOS: the tokenizer's EOS separates documents; when it has
	// none, the first of these (e.g. the model config's eos_token_id).
	FallbackEOS []int
	ValFraction float64 // documents in the "val" split (by a seeded hash of their text)
	Seed        uint64  // split seed
	// CacheDir holds the packed token files (default DefaultDataDir()/token-cache).
	CacheDir string
	Log      io.Writer // "packed …" line when the corpus is packed (may be nil)
}

// IsTokenFile reports whether path is a file starting with the token-file
// magic written by Pack (folders and other files are text corpora).
func IsTokenFile(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if st.IsDir() {
		return false, nil
	}
	f, _, err := fileio.OpenRegular(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(tokenMagic))
	n, _ := io.ReadFull(f, head)
	return bytes.Equal(head[:n], []byte(tokenMagic)), nil
}

// OpenCorpus opens path as a token file: path itself when it is one,
// otherwise the text corpus (text / JSON Lines / Parquet, a file or a folder)
// packed with the tokenizer into a cached token file (see CorpusTokenFile).
func OpenCorpus(path string, o CorpusOptions) (*Tokens, error) {
	tf, err := CorpusTokenFile([]string{path}, o)
	if err != nil {
		return nil, err
	}
	return OpenTokens(tf)
}

// CorpusTokenFile returns the token file for paths: the path itself when it
// is a single token file; otherwise the text corpus packed (EOS after every
// document, ValFraction/Seed split) into CacheDir under a name keyed by a hash
// of the corpus (paths, sizes, modification times), the tokenizer.json
// content, the split and the read options. The file is written atomically
// and reused while the key matches.
func CorpusTokenFile(paths []string, o CorpusOptions) (string, error) {
	if len(paths) == 0 {
		return "", fmt.Errorf("corpus: no path")
	}
	if len(paths) == 1 {
		isTok, err := IsTokenFile(paths[0])
		if err != nil {
			return "", fmt.Errorf("corpus: %w", err)
		}
		if isTok {
			return paths[0], nil
		}
	}
	tok := o.Tokenizer
	if tok == nil {
		if o.TokenizerPath == "" {
			return "", fmt.Errorf("corpus: %v is a text corpus and needs a tokenizer (the model folder's tokenizer.json)", paths)
		}
		var err error
		if tok, err = tokenize.Load(o.TokenizerPath); err != nil {
			return "", fmt.Errorf("corpus: %v is a text corpus: %w", paths, err)
		}
	}
	eos := tok.EOS()
	if eos < 0 && len(o.FallbackEOS) > 0 {
		eos = int32(o.FallbackEOS[0])
	}
	if eos < 0 {
		return "", fmt.Errorf("corpus: tokenizer %s and the model config name no EOS token to separate documents; pack %v into a token file with an explicit PackOptions.EOS (`gominitron data pack`) and pass that", tok.Path(), paths)
	}
	sources := o.Sources
	if len(sources) == 0 {
		for _, p := range paths {
			sources = append(sources, Source{Path: p, Field: o.Field})
		}
	}
	key, err := corpusKey(sources, tok, eos, o)
	if err != nil {
		return "", err
	}
	dir := o.CacheDir
	if dir == "" {
		dir = filepath.Join(DefaultDataDir(), CorpusCacheDir)
	}
	base := filepath.Base(paths[0])
	out := filepath.Join(dir, fmt.Sprintf("%s-%s.tokens", base[:len(base)-len(filepath.Ext(base))], key))
	if ok, _ := IsTokenFile(out); ok {
		return out, nil
	}
	if _, err := Pack(PackOptions{Sources: sources, Tokenizer: tok, Out: out, EOS: eos,
		ValFraction: o.ValFraction, Seed: o.Seed, Log: o.Log}); err != nil {
		return "", fmt.Errorf("corpus: packing %v: %w", paths, err)
	}
	return out, nil
}

// corpusKey hashes what the packed token file depends on.
func corpusKey(sources []Source, tok *tokenize.Tokenizer, eos int32, o CorpusOptions) (string, error) {
	h := sha256.New()
	for _, s := range sources {
		abs, err := filepath.Abs(s.Path)
		if err != nil {
			abs = s.Path
		}
		fmt.Fprintf(h, "source %q %q %q %q\n", abs, s.Format, s.Field, s.TextMode)
		err = filepath.WalkDir(s.Path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			st, err := d.Info()
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("corpus: %w", err)
		}
	}
	tokFile := tok.Path()
	if st, err := os.Stat(tokFile); err == nil && st.IsDir() {
		tokFile = filepath.Join(tokFile, "tokenizer.json")
	}
	tj, err := fileio.ReadRegular(tokFile, fileio.MaxSideFileBytes)
	if err != nil {
		return "", fmt.Errorf("corpus: hashing the tokenizer: %w", err)
	}
	th := sha256.Sum256(tj)
	h.Write(th[:])
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], o.Seed)
	h.Write(b[:])
	fmt.Fprintf(h, "val %g eos %d\n", o.ValFraction, eos)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// TrainTokenizer trains a byte-level BPE of vocab tokens on the documents of
// sources and writes it (tokenizer.json, tokenizer_config.json) into dir.
func TrainTokenizer(sources []Source, vocab int, dir string) error {
	tr, err := tokenize.NewTrainer(tokenize.TrainOptions{VocabSize: vocab})
	if err != nil {
		return err
	}
	for _, s := range sources {
		if err := ReadDocuments(s, func(d Document) error { tr.Add(d.Text); return nil }); err != nil {
			return err
		}
	}
	res, err := tr.Train()
	if err != nil {
		return err
	}
	_, err = res.WriteDir(dir)
	return err
}
