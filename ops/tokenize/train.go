package tokenize

import (
	"container/heap"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Special tokens of the tokenizers this package trains (Llama-3 names).
const (
	BeginOfText = "<|begin_of_text|>"
	EndOfText   = "<|end_of_text|>"
)

// TrainOptions configures Train.
type TrainOptions struct {
	VocabSize     int      // total size: special tokens + 256 bytes + merges
	MinFrequency  int64    // pairs seen fewer times are not merged (0: no limit)
	SpecialTokens []string // ids 0, 1, ...; default [BeginOfText, EndOfText]
}

// Trainer counts pre-tokenized words from text (Add) and learns a byte-level
// BPE from them (Train), following tokenizers' BpeTrainer:
//
//   - pre-tokenizer: Llama-3's Split regex (Isolated) then ByteLevel without
//     prefix space or regex, so each word is a string of byte-level characters;
//   - vocabulary: special tokens, then the 256 byte-level characters sorted by
//     code point, then one token per merge;
//   - each step merges the pair with the highest count; ties go to the
//     smallest pair of ids (left id, then right id) — the order of
//     tokenizers' Merge heap. Counts are updated incrementally with the same
//     lazy heap as tokenizers, so the merges are identical for the same words.
type Trainer struct {
	opts  TrainOptions
	words map[string]int64
}

// NewTrainer validates the options.
func NewTrainer(opts TrainOptions) (*Trainer, error) {
	if opts.SpecialTokens == nil {
		opts.SpecialTokens = []string{BeginOfText, EndOfText}
	}
	minVocab := len(opts.SpecialTokens) + 256
	if opts.VocabSize < minVocab {
		return nil, fmt.Errorf("tokenizer train: vocab size %d is smaller than %d special tokens + 256 bytes", opts.VocabSize, len(opts.SpecialTokens))
	}
	seen := map[string]bool{}
	for _, s := range opts.SpecialTokens {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("tokenizer train: special token %q is empty or repeated", s)
		}
		seen[s] = true
	}
	return &Trainer{opts: opts, words: map[string]int64{}}, nil
}

var trainPreTok = llama3Matcher{maxDigits: 3}

// Add counts the words of one text.
func (t *Trainer) Add(text string) {
	for _, sp := range trainPreTok.findAll(text) {
		t.words[text[sp[0]:sp[1]]]++
	}
}

// NumWords is the number of distinct pre-tokenized words seen so far.
func (t *Trainer) NumWords() int { return len(t.words) }

// Trained is the result of training: a vocabulary (index = id) and merges in
// rank order.
type Trained struct {
	Vocab         []string
	Merges        [][2]string
	SpecialTokens []string
	// Segmentation maps every training word (byte-level form) to its final
	// token ids after all merges, as the trainer produced them.
	Segmentation map[string][]int32
}

type trainWord struct {
	syms  []int32
	count int64
}

type trainMerge struct {
	a, b  int32
	count int64
	pos   []int32
}

type trainHeap []trainMerge

func (h trainHeap) Len() int { return len(h) }
func (h trainHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	if h[i].a != h[j].a {
		return h[i].a < h[j].a
	}
	return h[i].b < h[j].b
}
func (h trainHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *trainHeap) Push(x any)   { *h = append(*h, x.(trainMerge)) }
func (h *trainHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type pairChange struct {
	key  uint64
	diff int64
}

// merge replaces every non-overlapping (a, b) left to right, like
// tokenizers' Word::merge, and reports the pair count changes (weight 1).
func (w *trainWord) merge(a, b, newID int32, changes []pairChange) []pairChange {
	s := w.syms
	for i := 0; i < len(s); i++ {
		if s[i] != a || i+1 >= len(s) || s[i+1] != b {
			continue
		}
		if i > 0 {
			changes = append(changes, pairChange{pairKey(s[i-1], a), -1}, pairChange{pairKey(s[i-1], newID), 1})
		}
		s[i] = newID
		s = append(s[:i+1], s[i+2:]...)
		if i < len(s)-1 {
			changes = append(changes, pairChange{pairKey(b, s[i+1]), -1}, pairChange{pairKey(newID, s[i+1]), 1})
		}
	}
	w.syms = s
	return changes
}

// Train learns the merges.
func (t *Trainer) Train() (*Trained, error) {
	if len(t.words) == 0 {
		return nil, errors.New("tokenizer train: no text")
	}
	words := make(map[string]int64, len(t.words))
	for w, c := range t.words {
		words[byteLevelEncode(w)] += c
	}
	return trainBPE(words, t.opts.SpecialTokens, byteLevelAlphabet(), t.opts.VocabSize, t.opts.MinFrequency)
}

// trainBPE is tokenizers' BpeTrainer::do_train on word counts (words are
// strings of symbols, one rune each): vocabulary = special tokens, then the
// alphabet (runes of the words plus initial, sorted by code point), then
// merges until vocabSize.
func trainBPE(wordCounts map[string]int64, specials []string, initial []rune, vocabSize int, minFrequency int64) (*Trained, error) {
	vocab := append([]string{}, specials...)
	ids := map[string]int32{}
	for i, s := range vocab {
		ids[s] = int32(i)
	}
	alphabet := map[rune]bool{}
	for _, r := range initial {
		alphabet[r] = true
	}
	for w := range wordCounts {
		for _, r := range w {
			alphabet[r] = true
		}
	}
	runes := make([]rune, 0, len(alphabet))
	for r := range alphabet {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	runeID := map[rune]int32{}
	for _, r := range runes {
		s := string(r)
		if id, dup := ids[s]; dup { // a special token equal to a character keeps its id
			runeID[r] = id
			continue
		}
		ids[s] = int32(len(vocab))
		runeID[r] = int32(len(vocab))
		vocab = append(vocab, s)
	}
	// Words in a fixed order (sorted) so that everything is deterministic.
	keys := slices.Sorted(maps.Keys(wordCounts))
	words := make([]trainWord, len(keys))
	pairCounts := map[uint64]int64{}
	where := map[uint64][]int32{}
	for i, k := range keys {
		syms := make([]int32, 0, len(k))
		for _, r := range k {
			syms = append(syms, runeID[r])
		}
		words[i] = trainWord{syms: syms, count: wordCounts[k]}
		for j := 0; j+1 < len(syms); j++ {
			key := pairKey(syms[j], syms[j+1])
			pairCounts[key] += words[i].count
			if w := where[key]; len(w) == 0 || w[len(w)-1] != int32(i) {
				where[key] = append(w, int32(i))
			}
		}
	}
	h := &trainHeap{}
	for key, pos := range where {
		if c := pairCounts[key]; c > 0 {
			*h = append(*h, trainMerge{a: int32(key >> 32), b: int32(uint32(key)), count: c, pos: pos})
		}
	}
	heap.Init(h)
	var merges [][2]string
	stamp := make([]int32, len(words)) // dedupes word indices per step
	step := int32(0)
	var changes []pairChange
	var changeWord []int32
	for len(vocab) < vocabSize && h.Len() > 0 {
		top := heap.Pop(h).(trainMerge)
		key := pairKey(top.a, top.b)
		if cur := pairCounts[key]; top.count != cur {
			top.count = cur
			heap.Push(h, top)
			continue
		}
		if top.count < 1 || top.count < minFrequency {
			break
		}
		newTok := vocab[top.a] + vocab[top.b]
		newID, exists := ids[newTok]
		if !exists {
			newID = int32(len(vocab))
			ids[newTok] = newID
			vocab = append(vocab, newTok)
		}
		merges = append(merges, [2]string{vocab[top.a], vocab[top.b]})
		step++
		changes, changeWord = changes[:0], changeWord[:0]
		for _, wi := range top.pos {
			if stamp[wi] == step {
				continue
			}
			stamp[wi] = step
			n := len(changes)
			changes = words[wi].merge(top.a, top.b, newID, changes)
			for k := n; k < len(changes); k++ {
				changeWord = append(changeWord, wi)
			}
		}
		grown := map[uint64][]int32{}
		var grownOrder []uint64
		for k, c := range changes {
			wi := changeWord[k]
			pairCounts[c.key] += c.diff * words[wi].count
			if c.diff > 0 {
				w, ok := grown[c.key]
				if !ok {
					grownOrder = append(grownOrder, c.key)
				}
				if len(w) == 0 || w[len(w)-1] != wi {
					grown[c.key] = append(w, wi)
				}
			}
		}
		for _, gk := range grownOrder {
			if c := pairCounts[gk]; c > 0 {
				heap.Push(h, trainMerge{a: int32(gk >> 32), b: int32(uint32(gk)), count: c, pos: grown[gk]})
			}
		}
	}
	seg := make(map[string][]int32, len(words))
	for i, k := range keys {
		seg[k] = words[i].syms
	}
	return &Trained{Vocab: vocab, Merges: merges, SpecialTokens: specials, Segmentation: seg}, nil
}

// JSON renders a tokenizer.json in the structure the `tokenizers` library
// writes for a Llama-3 style byte-level BPE: Split(Llama-3 regex, Isolated) +
// ByteLevel pre-tokenizer, TemplateProcessing that prepends the first special
// token (BOS), ByteLevel decoder.
func (tr *Trained) JSON() []byte {
	var sb strings.Builder
	q := jsonString
	bos := tr.SpecialTokens[0]
	sb.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	for i, s := range tr.SpecialTokens {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "\n    {\"id\": %d, \"content\": %s, \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}", i, q(s))
	}
	sb.WriteString("\n  ],\n  \"normalizer\": null,\n")
	fmt.Fprintf(&sb, "  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": %s}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]},\n", q(regexLlama3))
	fmt.Fprintf(&sb, "  \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": %[1]s, \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [{\"SpecialToken\": {\"id\": %[1]s, \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": %[1]s, \"type_id\": 0}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 0}}], \"special_tokens\": {%[1]s: {\"id\": %[1]s, \"ids\": [0], \"tokens\": [%[1]s]}}},\n", q(bos))
	sb.WriteString("  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true},\n")
	sb.WriteString("  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {")
	for i, s := range tr.Vocab {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "\n      %s: %d", q(s), i)
	}
	sb.WriteString("\n    },\n    \"merges\": [")
	for i, m := range tr.Merges {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "\n      [%s, %s]", q(m[0]), q(m[1]))
	}
	sb.WriteString("\n    ]\n  }\n}\n")
	return []byte(sb.String())
}
