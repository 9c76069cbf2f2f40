package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const fixtureDir = "../../testdata/hf/dev-tokenizer-llama3style"

type referenceEncoding struct {
	Text         string  `json:"text"`
	IDs          []int32 `json:"ids"`
	IDsNoSpecial []int32 `json:"ids_no_special"`
	Decoded      string  `json:"decoded"`
}

func loadReferences(t testing.TB) []referenceEncoding {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "reference_encodings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs []referenceEncoding
	if err := json.Unmarshal(data, &refs); err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestFixtureEncodingsExact(t *testing.T) {
	tok, err := Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 2048 || tok.BOS() != 0 || tok.EOS() != 1 {
		t.Fatalf("vocab %d bos %d eos %d, want 2048 0 1", tok.VocabSize(), tok.BOS(), tok.EOS())
	}
	for _, ref := range loadReferences(t) {
		if got := tok.Encode(ref.Text, true); !slices.Equal(got, ref.IDs) {
			t.Errorf("Encode(%q, special)\n got %v\nwant %v", ref.Text, got, ref.IDs)
		}
		if got := tok.Encode(ref.Text, false); !slices.Equal(got, ref.IDsNoSpecial) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", ref.Text, got, ref.IDsNoSpecial)
		}
		if got, err := tok.Decode(ref.IDs, true); err != nil || got != ref.Decoded {
			t.Errorf("Decode(ids, skip special) = %q, %v; want %q", got, err, ref.Decoded)
		}
		if got, err := tok.Decode(ref.IDsNoSpecial, false); err != nil || got != ref.Decoded {
			t.Errorf("Decode(ids_no_special) = %q, %v; want %q", got, err, ref.Decoded)
		}
	}
}

func TestSpecialTokensInText(t *testing.T) {
	tok, err := Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("a<|end_of_text|>a", false)
	if want := []int32{66, 1, 66}; !slices.Equal(ids, want) {
		t.Fatalf("got %v want %v", ids, want)
	}
	if s, _ := tok.Decode(ids, false); s != "a<|end_of_text|>a" {
		t.Fatalf("decode keeps special: %q", s)
	}
	if s, _ := tok.Decode(ids, true); s != "aa" {
		t.Fatalf("decode skip special: %q", s)
	}
	if _, err := tok.Decode([]int32{5, 2048}, false); err == nil {
		t.Fatal("id 2048 must be rejected")
	}
}
