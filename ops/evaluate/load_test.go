package evaluate

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/tokenize"
)

func testTokenizer(t *testing.T) *tokenize.Tokenizer {
	t.Helper()
	tok, err := tokenize.Load(filepath.Join("..", "..", "testdata", "hf", "dev-tokenizer-llama3style", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestHarnessEncoderWithRealTokenizer(t *testing.T) {
	tok := testTokenizer(t)
	enc, err := NewHarnessEncoder(tok, false)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ ctx, cont, wantCont string }{
		{"Question: Which is heavier?\nAnswer:", " a brick", " a brick"},
		{"The cat sat on the ", "mat.", " mat."}, // the trailing space moves to the continuation
		{"", "Hello there", "Hello there"},
	}
	for _, c := range cases {
		r, err := enc.EncodePair(c.ctx, c.cont)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tok.Decode(r.Continuation, false)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.wantCont {
			t.Errorf("EncodePair(%q, %q): continuation decodes to %q, want %q", c.ctx, c.cont, got, c.wantCont)
		}
		if c.ctx == "" && !reflect.DeepEqual(r.Context, []int32{tok.BOS()}) {
			t.Errorf("empty context: %v, want [BOS=%d]", r.Context, tok.BOS())
		}
		if c.ctx != "" && r.Context[0] == tok.BOS() {
			t.Errorf("BOS added to %q without AddBOS", c.ctx)
		}
	}
	withBOS, _ := NewHarnessEncoder(tok, true)
	r, _ := withBOS.EncodePair("Hi", " there")
	if r.Context[0] != tok.BOS() {
		t.Errorf("AddBOS: context %v does not start with BOS", r.Context)
	}
}

func TestReadDocuments(t *testing.T) {
	docs, err := ReadTokenDocuments(filepath.Join(fixtureDir("dev-llama-gqa"), "reference.safetensors"), nil, "val", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 4 || len(docs[0]) != 32 {
		t.Fatalf("input_ids read as %d rows of %d", len(docs), len(docs[0]))
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"text": "First doc."}`+"\n\n"+`{"text": "Second doc."}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.txt"), []byte("Third doc.\n"), 0o644)
	texts, err := ReadTextDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"First doc.", "Second doc.", "Third doc."}; !reflect.DeepEqual(texts, want) {
		t.Errorf("texts %q, want %q", texts, want)
	}
	tok := testTokenizer(t)
	ids, err := ReadTokenDocuments(dir, tok, "val", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0][0] != tok.BOS() {
		t.Errorf("token docs %v: want 3 documents starting with BOS %d", ids, tok.BOS())
	}
	if _, err := ReadTokenDocuments(filepath.Join(dir, "b.txt"), nil, "val", 0); err == nil {
		t.Error("text without a tokenizer: no error")
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(`{"body": "x"}`+"\n"), 0o644)
	if _, err := ReadTextDocuments(bad); err == nil {
		t.Error("a .jsonl line without \"text\": no error")
	}

	// A token file from ops/data's Pack: one stream per split.
	packed := filepath.Join(t.TempDir(), "tokens.bin")
	if _, err := data.Pack(data.PackOptions{Sources: []data.Source{{Path: dir}}, Tokenizer: tok, Out: packed, EOS: -1}); err != nil {
		t.Fatal(err)
	}
	stream, err := ReadTokenDocuments(packed, nil, data.Train, 0)
	if err != nil {
		t.Fatal(err)
	}
	var total int
	for _, d := range ids {
		total += len(d) - 1 + 1 // Pack adds no BOS by default and appends EOS
	}
	if len(stream) != 1 || len(stream[0]) != total {
		t.Errorf("token file read as %d streams of %d tokens, want 1 of %d", len(stream), len(stream[0]), total)
	}
	capped, _ := ReadTokenDocuments(packed, nil, data.Train, 5)
	if len(capped[0]) != 6 {
		t.Errorf("max-tokens 5 read %d tokens, want 6", len(capped[0]))
	}
	if _, err := ReadTokenDocuments(packed, nil, "test", 0); err == nil {
		t.Error("missing split: no error")
	}
}
