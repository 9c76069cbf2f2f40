package tokenize

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// model turns one pre-token into ids.
type model interface {
	tokenize(dst []int32, word string) []int32
}

// Tokenizer encodes text to token ids and back. It is safe for concurrent use.
type Tokenizer struct {
	path       string
	normalizer normalizer
	preTok     preTokenizer
	model      model
	addedRaw   *addedMatcher // added tokens with normalized=false: matched on the input
	addedNorm  *addedMatcher // normalized=true: matched after normalization
	post       postProcessor
	decoder    decoder

	idToToken []string // every id of the model vocab and the added tokens
	tokenToID map[string]int32
	special   map[int32]bool
	bos, eos  int32
}

// Path is the file the tokenizer was loaded from.
func (t *Tokenizer) Path() string { return t.path }

// VocabSize is the number of ids (largest id + 1, added tokens included).
func (t *Tokenizer) VocabSize() int { return len(t.idToToken) }

// BOS returns the beginning-of-sequence id, or -1 when the tokenizer has none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS returns the end-of-sequence id, or -1 when the tokenizer has none.
func (t *Tokenizer) EOS() int32 { return t.eos }

// TokenToID looks up a token string (model vocab or added token).
func (t *Tokenizer) TokenToID(tok string) (int32, bool) {
	id, ok := t.tokenToID[tok]
	return id, ok
}

// IDToToken returns the token string of id.
func (t *Tokenizer) IDToToken(id int32) (string, bool) {
	if id < 0 || int(id) >= len(t.idToToken) || t.idToToken[id] == "" && !t.special[id] {
		return "", false
	}
	return t.idToToken[id], true
}

// SpecialIDs lists the ids of special tokens, sorted.
func (t *Tokenizer) SpecialIDs() []int32 {
	out := make([]int32, 0, len(t.special))
	for id := range t.special {
		out = append(out, id)
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

// Encode tokenizes text like tokenizers' Tokenizer.encode(text,
// add_special_tokens). Added/special tokens written in the text are always
// recognized; addSpecial only controls the post-processor (e.g. BOS).
// Invalid UTF-8 is replaced by U+FFFD first.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	ids := make([]int32, 0, len(text)/3+2)
	for _, seg := range t.addedRaw.split(text) {
		if seg.id >= 0 {
			ids = append(ids, seg.id)
			continue
		}
		norm := seg.text
		if t.normalizer != nil {
			norm = t.normalizer.normalize(norm)
		}
		for _, sub := range t.addedNorm.split(norm) {
			if sub.id >= 0 {
				ids = append(ids, sub.id)
				continue
			}
			pieces := []piece{{text: sub.text, atStart: seg.start == 0 && sub.start == 0}}
			if t.preTok != nil {
				pieces = t.preTok.preTokenize(pieces)
			}
			for _, p := range pieces {
				ids = t.model.tokenize(ids, p.text)
			}
		}
	}
	if addSpecial && t.post != nil {
		ids = t.post.process(ids)
	}
	return ids
}

// Decode turns ids back into text like tokenizers' decode; skipSpecial drops
// special tokens. An id outside the vocabulary is an error.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for i, id := range ids {
		tok, ok := t.IDToToken(id)
		if !ok {
			return "", fmt.Errorf("decode: id %d (position %d) is outside the vocabulary of %s (size %d)", id, i, t.path, t.VocabSize())
		}
		if skipSpecial && t.special[id] {
			continue
		}
		toks = append(toks, tok)
	}
	if t.decoder == nil {
		return strings.Join(toks, " "), nil
	}
	return strings.Join(t.decoder.decodeChain(toks), ""), nil
}
