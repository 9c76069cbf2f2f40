package evaluate

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/data"
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
		return nil, fmt.Errorf("evaluate: Encoder.AddBOS: tokenizer %s has no BOS token", tok.Path())
	}
	return &Encoder{
		Tok:         TokenizerFunc(func(s string) ([]int32, error) { return tok.Encode(s, false), nil }),
		PrefixToken: prefix,
		AddBOS:      addBOS,
	}, nil
}

// ReadTextDocuments reads evaluation text with ops/data's corpus reader:
// a text file (one document), a .jsonl/.ndjson file (field "text" per
// line), a .parquet file (column "text"), or a folder of them (recursively,
// in name order).
func ReadTextDocuments(path string) ([]string, error) {
	var docs []string
	err := data.ReadDocuments(data.Source{Path: path}, func(d data.Document) error {
		docs = append(docs, d.Text)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("evaluate: %s holds no documents", path)
	}
	return docs, nil
}

// ReadTokenDocuments reads evaluation data as token sequences:
//
//   - a token file of `gominitron data pack` (magic GMTOKEN1): the split
//     (e.g. "val") as one token stream, documents already separated by EOS;
//     at most maxTokens+1 tokens are read when maxTokens > 0;
//   - a .safetensors file: each row of its integer tensor "input_ids"
//     [rows, seqLen] is a document;
//   - anything else is text (ReadTextDocuments) encoded with tok, special
//     tokens included (BOS, as Hugging Face tokenizers add it), so every real
//     token of a document is predicted.
func ReadTokenDocuments(path string, tok *tokenize.Tokenizer, split string, maxTokens int64) ([][]int32, error) {
	if ok, _ := data.IsTokenFile(path); ok {
		t, err := data.OpenTokens(path)
		if err != nil {
			return nil, err
		}
		defer t.Close()
		n, err := t.SplitLen(split)
		if err != nil {
			return nil, err
		}
		if maxTokens > 0 {
			n = min(n, maxTokens+1)
		}
		ids := make([]int32, n)
		if err := t.Read(split, 0, ids); err != nil {
			return nil, err
		}
		return [][]int32{ids}, nil
	}
	if strings.HasSuffix(path, ".safetensors") {
		t, _, err := safetensors.ReadInputIDs(path) // the rows are documents: an attention_mask is not read
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
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
