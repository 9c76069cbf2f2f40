package tokenize

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseTokenizerJSON feeds arbitrary bytes as tokenizer.json: parsing
// must never panic, and a tokenizer it accepts must encode and decode a
// short text without panicking, with every id below its vocabulary size.
func FuzzParseTokenizerJSON(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "*", "tokenizer.json"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil && len(data) < 16<<10 { // big seeds make each execution slow
			f.Add(data)
		}
	}
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}`))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0},"merges":[["a","a"]]},"added_tokens":[{"id":1,"content":"<s>","special":true}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseJSON(data, "fuzz/tokenizer.json")
		if err != nil {
			return
		}
		ids := tok.Encode("The jury said ab <s> é 1234", true)
		for _, id := range ids {
			if id < 0 || int(id) >= tok.VocabSize() {
				t.Fatalf("id %d outside the vocabulary of %d", id, tok.VocabSize())
			}
		}
		_, _ = tok.Decode(ids, false)
	})
}
