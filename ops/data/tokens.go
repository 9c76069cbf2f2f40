package data

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gominitron/gominitron/internal/fileio"
)

// Token file layout (little-endian):
//
//	[8]byte  magic "GMTOKEN1"
//	uint32   header length H
//	[H]byte  JSON header (TokenHeader), padded with spaces so the data starts
//	         at a multiple of 64 bytes
//	data     the token ids of every split, one after the other, as uint16 or
//	         uint32 (header.DType)
const tokenMagic = "GMTOKEN1"

// TokenHeader is the JSON header of a token file.
type TokenHeader struct {
	Version    int                   `json:"version"`
	DType      string                `json:"dtype"` // "uint16" or "uint32"
	VocabSize  int                   `json:"vocab_size"`
	MaxTokenID int32                 `json:"max_token_id"`
	BOS        int32                 `json:"bos_id"` // -1: not added
	EOS        int32                 `json:"eos_id"`
	Tokenizer  string                `json:"tokenizer"`
	Seed       uint64                `json:"seed"`
	ValFrac    float64               `json:"val_fraction"`
	Sources    []string              `json:"sources"`
	Splits     map[string]SplitRange `json:"splits"`
}

// SplitRange locates one split in the data area (in tokens).
type SplitRange struct {
	Offset    int64 `json:"offset"`
	Tokens    int64 `json:"tokens"`
	Documents int64 `json:"documents"`
}

// Split names.
const (
	Train = "train"
	Val   = "val"
)

func bytesPerToken(dtype string) (int, error) {
	switch dtype {
	case "uint16":
		return 2, nil
	case "uint32":
		return 4, nil
	}
	return 0, fmt.Errorf("unknown dtype %q", dtype)
}

// tokenSink streams one split's tokens to a temporary file.
type tokenSink struct {
	f      *os.File
	w      *bufio.Writer
	width  int
	tokens int64
	docs   int64
	buf    []byte
}

func newTokenSink(dir string, width int) (*tokenSink, error) {
	f, err := os.CreateTemp(dir, ".split"+fileio.TempInfix+"*")
	if err != nil {
		return nil, err
	}
	return &tokenSink{f: f, w: bufio.NewWriterSize(f, 1<<20), width: width}, nil
}

func (s *tokenSink) write(ids []int32) error {
	s.buf = s.buf[:0]
	for _, id := range ids {
		if s.width == 2 {
			s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(id))
		} else {
			s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(id))
		}
	}
	s.tokens += int64(len(ids))
	s.docs++
	_, err := s.w.Write(s.buf)
	return err
}

func (s *tokenSink) discard() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// writeTokenFile assembles header + splits into path atomically.
func writeTokenFile(path string, h TokenHeader, order []string, sinks map[string]*tokenSink) error {
	offset := int64(0)
	h.Splits = map[string]SplitRange{}
	for _, name := range order {
		s := sinks[name]
		if err := s.w.Flush(); err != nil {
			return err
		}
		h.Splits[name] = SplitRange{Offset: offset, Tokens: s.tokens, Documents: s.docs}
		offset += s.tokens
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return err
	}
	for (len(tokenMagic)+4+len(hj))%64 != 0 {
		hj = append(hj, ' ')
	}
	return fileio.WriteStream(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, tokenMagic); err != nil {
			return err
		}
		if err := binary.Write(w, binary.LittleEndian, uint32(len(hj))); err != nil {
			return err
		}
		if _, err := w.Write(hj); err != nil {
			return err
		}
		for _, name := range order {
			s := sinks[name]
			if _, err := s.f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			if _, err := io.Copy(w, s.f); err != nil {
				return err
			}
		}
		return nil
	})
}

// Tokens is an opened (memory-mapped) token file.
type Tokens struct {
	Path   string
	Header TokenHeader
	data   []byte // the data area
	width  int
	unmap  func() error
}

// OpenTokens memory-maps a token file written by Pack.
func OpenTokens(path string) (*Tokens, error) {
	f, st, err := fileio.OpenRegular(path) // st: the opened file's, regular
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	if st.Size() < int64(len(tokenMagic)+4) {
		return nil, fmt.Errorf("token file %s: too short (%d bytes) to be a token file", path, st.Size())
	}
	all, unmap, err := fileio.MapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	t, err := parseTokens(path, all)
	if err != nil {
		unmap()
		return nil, err
	}
	t.unmap = unmap
	return t, nil
}

func parseTokens(path string, all []byte) (*Tokens, error) {
	if string(all[:len(tokenMagic)]) != tokenMagic {
		return nil, fmt.Errorf("token file %s: bad magic (not written by gominitron data pack)", path)
	}
	hl := int(binary.LittleEndian.Uint32(all[len(tokenMagic):]))
	start := len(tokenMagic) + 4
	if start+hl > len(all) {
		return nil, fmt.Errorf("token file %s: header length %d beyond the file", path, hl)
	}
	var h TokenHeader
	if err := json.Unmarshal(all[start:start+hl], &h); err != nil {
		return nil, fmt.Errorf("token file %s: header: %w", path, err)
	}
	width, err := bytesPerToken(h.DType)
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	data := all[start+hl:]
	for name, s := range h.Splits {
		if s.Offset < 0 || s.Tokens < 0 || (s.Offset+s.Tokens)*int64(width) > int64(len(data)) {
			return nil, fmt.Errorf("token file %s: split %q [%d, +%d) beyond the data (%d tokens): truncated file?", path, name, s.Offset, s.Tokens, len(data)/width)
		}
	}
	return &Tokens{Path: path, Header: h, data: data, width: width}, nil
}

// Close unmaps the file.
func (t *Tokens) Close() error {
	if t.unmap == nil {
		return nil
	}
	err := t.unmap()
	t.unmap, t.data = nil, nil
	return err
}

// SplitLen is the number of tokens of a split.
func (t *Tokens) SplitLen(split string) (int64, error) {
	s, ok := t.Header.Splits[split]
	if !ok {
		return 0, fmt.Errorf("token file %s: no split %q", t.Path, split)
	}
	return s.Tokens, nil
}

// Read copies tokens [start, start+len(dst)) of a split into dst.
func (t *Tokens) Read(split string, start int64, dst []int32) error {
	s, ok := t.Header.Splits[split]
	if !ok {
		return fmt.Errorf("token file %s: no split %q", t.Path, split)
	}
	if start < 0 || start+int64(len(dst)) > s.Tokens {
		return fmt.Errorf("token file %s: read [%d, %d) outside split %q of %d tokens", t.Path, start, start+int64(len(dst)), split, s.Tokens)
	}
	if t.data == nil {
		return errors.New("token file is closed")
	}
	off := (s.Offset + start) * int64(t.width)
	if t.width == 2 {
		for i := range dst {
			dst[i] = int32(binary.LittleEndian.Uint16(t.data[off+int64(2*i):]))
		}
	} else {
		for i := range dst {
			dst[i] = int32(binary.LittleEndian.Uint32(t.data[off+int64(4*i):]))
		}
	}
	return nil
}

// CheckModel verifies the tokens fit a model: every id below vocabSize and
// seqLen within the model context (0 skips a check).
func (t *Tokens) CheckModel(vocabSize, maxContext, seqLen int) error {
	if vocabSize > 0 && int(t.Header.MaxTokenID) >= vocabSize {
		return fmt.Errorf("token file %s: token id %d (tokenizer %s, vocab %d) is outside the model vocabulary of %d", t.Path, t.Header.MaxTokenID, t.Header.Tokenizer, t.Header.VocabSize, vocabSize)
	}
	if maxContext > 0 && seqLen > maxContext {
		return fmt.Errorf("sequence length %d is longer than the model context of %d tokens", seqLen, maxContext)
	}
	return nil
}
