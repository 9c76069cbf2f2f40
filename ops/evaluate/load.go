package evaluate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/safetensors"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// NewHarnessEncoder is the Encoder lm-eval-harness's HFLM would use with
// this tokenizer: no special tokens added (unless addBOS), and an empty
// context replaced by BOS (EOS when there is no BOS).
func NewHarnessEncoder(tok *tokenize.Tokenizer, addBOS bool) (*Encoder, error) {
	prefix := tok.BOS()
	if prefix < 0 {
		prefix = tok.EOS()
	}
	if addBOS && tok.BOS() < 0 {
		return nil, fmt.Errorf("evaluate: --add-bos: tokenizer %s has no BOS token", tok.Path())
	}
	return &Encoder{
		Tok:         TokenizerFunc(func(s string) ([]int32, error) { return tok.Encode(s, false), nil }),
		PrefixToken: prefix,
		AddBOS:      addBOS,
	}, nil
}

// ReadTextDocuments reads evaluation text: a .jsonl file (one document per
// line, from field "text"), a directory (every .txt/.jsonl file in it,
// sorted by name), or any other file as one plain-text document.
func ReadTextDocuments(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("evaluate: reading data: %w", err)
	}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("evaluate: reading data: %w", err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".txt") || strings.HasSuffix(e.Name(), ".jsonl")) {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		var docs []string
		for _, n := range names {
			d, err := ReadTextDocuments(filepath.Join(path, n))
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
		}
		if len(docs) == 0 {
			return nil, fmt.Errorf("evaluate: data directory %s holds no .txt or .jsonl files", path)
		}
		return docs, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("evaluate: reading data: %w", err)
	}
	if !strings.HasSuffix(path, ".jsonl") {
		return []string{string(data)}, nil
	}
	var docs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &rec); err != nil || rec.Text == nil {
			return nil, fmt.Errorf("evaluate: %s line %d: want a JSON object with a \"text\" string", path, line)
		}
		docs = append(docs, *rec.Text)
	}
	return docs, sc.Err()
}

// ReadTokenDocuments reads evaluation data as token sequences: from a
// .safetensors file, each row of its integer tensor "input_ids" [rows,
// seqLen] is a document; otherwise the text documents of ReadTextDocuments
// are encoded with tok, special tokens included (BOS, as Hugging Face
// tokenizers add it), so every real token of a document is predicted.
func ReadTokenDocuments(path string, tok *tokenize.Tokenizer) ([][]int32, error) {
	if strings.HasSuffix(path, ".safetensors") {
		f, err := safetensors.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		t, err := f.Tensor("input_ids", dtypes.Int32)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %s: %w", path, err)
		}
		if t.Rank() != 2 {
			return nil, fmt.Errorf("evaluate: %s: input_ids must be [rows, seqLen], got %s", path, t.Shape())
		}
		flat := tensors.MustCopyFlatData[int32](t)
		rows, cols := t.Shape().Dim(0), t.Shape().Dim(1)
		docs := make([][]int32, rows)
		for r := range docs {
			docs[r] = flat[r*cols : (r+1)*cols]
		}
		return docs, nil
	}
	if tok == nil {
		return nil, fmt.Errorf("evaluate: %s is text and needs a tokenizer", path)
	}
	texts, err := ReadTextDocuments(path)
	if err != nil {
		return nil, err
	}
	docs := make([][]int32, 0, len(texts))
	for _, s := range texts {
		docs = append(docs, tok.Encode(s, true))
	}
	return docs, nil
}
