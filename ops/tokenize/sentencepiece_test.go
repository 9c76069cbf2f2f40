package tokenize

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// spTestPieces is a tiny Llama-2-like vocabulary: <unk>, <s>, </s>, 256 byte
// pieces, then scored pieces (higher score = merged earlier).
var spTestPieces = []struct {
	piece string
	score float32
}{
	{"▁", -1}, {"a", -2}, {"b", -3}, {"c", -4}, {"d", -5}, {"h", -6}, {"e", -7}, {"l", -8}, {"o", -9},
	{"▁a", -0.5}, {"ab", -0.6}, {"▁ab", -0.7}, {"bc", -0.8}, {"he", -0.9}, {"ll", -1.1}, {"hell", -1.2},
	{"hello", -1.3}, {"▁hello", -1.4}, {"cd", -1.5}, {"▁c", -1.6},
}

// buildSPModel writes a ModelProto with protowire (BPE, byte_fallback,
// identity normalizer with add_dummy_prefix, like Llama 2's tokenizer.model).
func buildSPModel() []byte {
	piece := func(s string, score float32, typ int) []byte {
		var b []byte
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(score))
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(typ))
		return b
	}
	var m []byte
	add := func(p []byte) {
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendBytes(m, p)
	}
	add(piece("<unk>", 0, spUnknown))
	add(piece("<s>", 0, spControl))
	add(piece("</s>", 0, spControl))
	for b := 0; b < 256; b++ {
		add(piece(fmt.Sprintf("<0x%02X>", b), 0, spByte))
	}
	for _, p := range spTestPieces {
		add(piece(p.piece, p.score, spNormal))
	}
	var trainer []byte
	for _, kv := range [][2]uint64{{3, 2}, {35, 1}, {40, 0}, {41, 1}, {42, 2}} {
		trainer = protowire.AppendTag(trainer, protowire.Number(kv[0]), protowire.VarintType)
		trainer = protowire.AppendVarint(trainer, kv[1])
	}
	m = protowire.AppendTag(m, 2, protowire.BytesType)
	m = protowire.AppendBytes(m, trainer)
	var norm []byte
	norm = protowire.AppendTag(norm, 1, protowire.BytesType)
	norm = protowire.AppendString(norm, "identity")
	for _, kv := range [][2]uint64{{3, 1}, {4, 0}, {5, 1}} {
		norm = protowire.AppendTag(norm, protowire.Number(kv[0]), protowire.VarintType)
		norm = protowire.AppendVarint(norm, kv[1])
	}
	m = protowire.AppendTag(m, 3, protowire.BytesType)
	m = protowire.AppendBytes(m, norm)
	return m
}

// llama2StyleJSON is the tokenizer.json Hugging Face's converter makes from the
// same model (legacy Llama 2 form): Prepend+Replace normalizer, BPE with
// byte_fallback, merges ordered by the score of the merged piece.
func llama2StyleJSON() string {
	vocab := map[string]int{"<unk>": 0, "<s>": 1, "</s>": 2}
	for b := 0; b < 256; b++ {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 3 + b
	}
	score := map[string]float32{}
	for i, p := range spTestPieces {
		vocab[p.piece] = 259 + i
		score[p.piece] = p.score
	}
	type merge struct {
		l, r  string
		score float32
	}
	var merges []merge
	for _, p := range spTestPieces {
		for k := 1; k < len(p.piece); k++ {
			l, r := p.piece[:k], p.piece[k:]
			if _, ok := score[l]; !ok {
				continue
			}
			if _, ok := score[r]; ok {
				merges = append(merges, merge{l, r, p.score})
			}
		}
	}
	sort.SliceStable(merges, func(i, j int) bool { return merges[i].score > merges[j].score })
	var vs, ms []string
	for tok, id := range vocab {
		vs = append(vs, fmt.Sprintf("%s: %d", jsonString(tok), id))
	}
	sort.Strings(vs)
	for _, m := range merges {
		ms = append(ms, jsonString(m.l+" "+m.r))
	}
	return `{"version": "1.0", "added_tokens": [
 {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
 {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
 {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
 "pre_tokenizer": null,
 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
 "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
 "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true,
  "vocab": {` + strings.Join(vs, ", ") + `}, "merges": [` + strings.Join(ms, ", ") + `]}}`
}

func TestSentencePieceModel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokenizer.model")
	if err := os.WriteFile(path, buildSPModel(), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sp.VocabSize() != 259+len(spTestPieces) || sp.BOS() != 1 || sp.EOS() != 2 {
		t.Fatalf("vocab %d bos %d eos %d", sp.VocabSize(), sp.BOS(), sp.EOS())
	}
	id := func(s string) int32 { v, _ := sp.TokenToID(s); return v }
	byteID := func(b byte) int32 { return 3 + int32(b) }
	// Hand-derived: "▁abc" → ▁a (score -0.5) first → ▁a b c → "▁ab" (-0.7)
	// beats "bc" (-0.8) → ▁ab c. "hello" merges he, ll, hell, hello, ▁hello.
	// "é" is not in the vocabulary → its two UTF-8 bytes.
	cases := []struct {
		text string
		want []int32
	}{
		{"abc", []int32{1, id("▁ab"), id("c")}},
		{"hello abc", []int32{1, id("▁hello"), id("▁ab"), id("c")}},
		{"cd", []int32{1, id("▁"), id("cd")}}, // "cd" (-1.5) beats "▁c" (-1.6)
		{"é", []int32{1, id("▁"), byteID(0xC3), byteID(0xA9)}},
		{"", []int32{1}},
	}
	js, err := ParseJSON([]byte(llama2StyleJSON()), "llama2-style.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got := sp.Encode(c.text, true)
		if !slices.Equal(got, c.want) {
			t.Errorf("sp Encode(%q) = %v, want %v", c.text, got, c.want)
		}
		if gotJSON := js.Encode(c.text, true); !slices.Equal(gotJSON, c.want) {
			t.Errorf("tokenizer.json form Encode(%q) = %v, want %v", c.text, gotJSON, c.want)
		}
		for _, tok := range []*Tokenizer{sp, js} {
			if back, err := tok.Decode(got, true); err != nil || back != c.text {
				t.Errorf("%s Decode(%v) = %q, %v; want %q", tok.Path(), got, back, err, c.text)
			}
		}
	}
	// Both forms agree on mixed text.
	for _, text := range []string{"hello hello  abcd é ü 日本", " leading", "a\nb", "abab cdcd hellohello"} {
		a, b := sp.Encode(text, false), js.Encode(text, false)
		if !slices.Equal(a, b) {
			t.Errorf("%q: sp %v json %v", text, a, b)
		}
		if back, _ := sp.Decode(a, false); back != text {
			t.Errorf("sp round trip %q → %q", text, back)
		}
	}
}

func TestMetaspacePrependFirst(t *testing.T) {
	// Newer Llama/Mistral tokenizer.json: Metaspace(prepend_scheme=first), no normalizer.
	js := strings.Replace(llama2StyleJSON(),
		`"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
 "pre_tokenizer": null,`,
		`"normalizer": null, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},`, 1)
	tok, err := ParseJSON([]byte(js), "metaspace.json")
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) int32 { v, _ := tok.TokenToID(s); return v }
	// After a special token the text is not at offset 0: no ▁ is prepended.
	got := tok.Encode("abc</s>abc", false)
	want := []int32{id("▁ab"), id("c"), 2, id("ab"), id("c")}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}
