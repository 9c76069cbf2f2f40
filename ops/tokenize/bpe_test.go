package tokenize

import (
	"slices"
	"testing"
)

// TestBPEModel replays tokenizers' models/bpe unit tests (unk fusing,
// "unrelated" merge order) and checks byte_fallback and ignore_merges.
func TestBPEModel(t *testing.T) {
	unkVocab := map[string]int32{"<unk>": 0, "a": 1, "b": 2}
	notFused, err := newBPEModel(unkVocab, nil, "<unk>", false, false, false, "", "")
	if err != nil {
		t.Fatal(err)
	}
	fused, _ := newBPEModel(unkVocab, nil, "<unk>", true, false, false, "", "")
	vocab := map[string]int32{"u": 0, "n": 1, "r": 2, "e": 3, "l": 4, "a": 5, "t": 6, "d": 7, "re": 8, "at": 9,
		"ed": 10, "un": 11, "ated": 12, "rel": 13, "related": 14, "unrelated": 15}
	merges := [][2]string{{"r", "e"}, {"a", "t"}, {"e", "d"}, {"u", "n"}, {"at", "ed"}, {"re", "l"}, {"rel", "ated"}, {"un", "related"}}
	unrelated, err := newBPEModel(vocab, merges, "", false, false, false, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// ignore_merges: a word in the vocabulary is one token even without a merge path.
	ignVocab := map[string]int32{"h": 0, "i": 1, "hi": 2}
	ignore, _ := newBPEModel(ignVocab, nil, "", false, false, true, "", "")
	noIgnore, _ := newBPEModel(ignVocab, nil, "", false, false, false, "", "")
	fbVocab := map[string]int32{"<unk>": 0, "a": 1}
	for b := 0; b < 256; b++ {
		fbVocab[string([]byte{'<', '0', 'x', "0123456789ABCDEF"[b>>4], "0123456789ABCDEF"[b&15], '>'})] = int32(2 + b)
	}
	fallback, _ := newBPEModel(fbVocab, nil, "<unk>", true, true, false, "", "")
	cases := []struct {
		name string
		m    *bpeModel
		word string
		want []int32
	}{
		{"unk c", notFused, "c", []int32{0}},
		{"unk cc", notFused, "cc", []int32{0, 0}},
		{"unk accb", notFused, "accb", []int32{1, 0, 0, 2}},
		{"fused cc", fused, "cc", []int32{0}},
		{"fused accb", fused, "accb", []int32{1, 0, 2}},
		{"unrelated", unrelated, "unrelated", []int32{15}},
		{"ignore_merges", ignore, "hi", []int32{2}},
		{"no ignore_merges", noIgnore, "hi", []int32{0, 1}},
		{"byte fallback é", fallback, "aé", []int32{1, 2 + 0xC3, 2 + 0xA9}},
	}
	for _, c := range cases {
		if got := c.m.tokenize(nil, c.word); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
	if _, err := newBPEModel(vocab, [][2]string{{"x", "y"}}, "", false, false, false, "", ""); err == nil {
		t.Error("merge with unknown tokens must fail")
	}
}
