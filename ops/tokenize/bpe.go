package tokenize

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// bpeModel is tokenizers' models::bpe::BPE (dropout is not supported: it is
// a training-time option and null in released tokenizers).
type bpeModel struct {
	vocab        map[string]int32
	merges       map[uint64]mergeRule // (left id, right id) → rule
	unkID        int32                // -1: none
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	contPrefix   string     // continuing_subword_prefix
	endSuffix    string     // end_of_word_suffix
	byteIDs      [256]int32 // <0xNN> ids for byte_fallback, -1 if missing

	mu    sync.Mutex
	cache map[string][]int32
}

type mergeRule struct {
	rank  int32
	newID int32
}

// Cache limits: words are cached up to bpeCacheMaxWord bytes (models without a
// pre-tokenizer see whole texts), and the cache is emptied at bpeCacheMax words.
const (
	bpeCacheMax     = 1 << 18
	bpeCacheMaxWord = 256
)

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func newBPEModel(vocab map[string]int32, merges [][2]string, unk string, fuseUnk, byteFallback, ignoreMerges bool, contPrefix, endSuffix string) (*bpeModel, error) {
	m := &bpeModel{vocab: vocab, merges: make(map[uint64]mergeRule, len(merges)), unkID: -1,
		fuseUnk: fuseUnk, byteFallback: byteFallback, ignoreMerges: ignoreMerges,
		contPrefix: contPrefix, endSuffix: endSuffix, cache: map[string][]int32{}}
	if unk != "" {
		id, ok := vocab[unk]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocab", unk)
		}
		m.unkID = id
	}
	for b := 0; b < 256; b++ {
		m.byteIDs[b] = -1
		if id, ok := vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	for rank, mg := range merges {
		a, okA := vocab[mg[0]]
		b, okB := vocab[mg[1]]
		if !okA || !okB {
			return nil, fmt.Errorf("merge %d (%q %q): token not in vocab", rank, mg[0], mg[1])
		}
		right := mg[1]
		if contPrefix != "" && len(right) >= len(contPrefix) && right[:len(contPrefix)] == contPrefix {
			right = right[len(contPrefix):]
		}
		newID, ok := vocab[mg[0]+right]
		if !ok {
			return nil, fmt.Errorf("merge %d (%q %q): merged token %q not in vocab", rank, mg[0], mg[1], mg[0]+right)
		}
		// A repeated pair takes the last rank, as tokenizers' HashMap collect does.
		m.merges[pairKey(a, b)] = mergeRule{rank: int32(rank), newID: newID}
	}
	return m, nil
}

// tokenize appends the ids of one pre-token to dst.
func (m *bpeModel) tokenize(dst []int32, word string) []int32 {
	if word == "" {
		return dst
	}
	if len(word) <= bpeCacheMaxWord {
		m.mu.Lock()
		ids, ok := m.cache[word]
		m.mu.Unlock()
		if ok {
			return append(dst, ids...)
		}
	}
	var ids []int32
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			ids = []int32{id}
		}
	}
	if ids == nil {
		ids = m.mergeWord(m.initialSymbols(word))
	}
	if len(word) > bpeCacheMaxWord {
		return append(dst, ids...)
	}
	m.mu.Lock()
	if len(m.cache) >= bpeCacheMax {
		clear(m.cache)
	}
	m.cache[word] = ids
	m.mu.Unlock()
	return append(dst, ids...)
}

// initialSymbols splits a word into characters mapped to ids (byte fallback,
// unknown handling and prefixes as in BPE::merge_word).
func (m *bpeModel) initialSymbols(w string) []int32 {
	syms := make([]int32, 0, len(w))
	pendingUnk := false
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		end := i + size
		s := w[i:end]
		if i > 0 && m.contPrefix != "" {
			s = m.contPrefix + s
		}
		if end == len(w) && m.endSuffix != "" {
			s += m.endSuffix
		}
		i = end
		if id, ok := m.vocab[s]; ok {
			if pendingUnk {
				syms = append(syms, m.unkID)
				pendingUnk = false
			}
			syms = append(syms, id)
			continue
		}
		if m.byteFallback {
			allFound := true
			for k := 0; k < len(s); k++ {
				if m.byteIDs[s[k]] < 0 {
					allFound = false
					break
				}
			}
			if allFound {
				for k := 0; k < len(s); k++ {
					syms = append(syms, m.byteIDs[s[k]])
				}
				continue
			}
		}
		if m.unkID >= 0 {
			if pendingUnk && !m.fuseUnk {
				syms = append(syms, m.unkID)
			}
			pendingUnk = true
		}
	}
	if pendingUnk {
		syms = append(syms, m.unkID)
	}
	return syms
}

// bpeSymbol is a node of the doubly linked symbol list of Word::merge_all.
type bpeSymbol struct {
	id         int32
	prev, next int32
	removed    bool
}

type bpeMerge struct {
	pos   int32
	rank  int32
	newID int32
}

func mergeLess(a, b bpeMerge) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

// mergeWord applies merges lowest rank first (ties: leftmost), exactly as
// tokenizers' Word::merge_all with its priority queue and stale-entry check.
func (m *bpeModel) mergeWord(ids []int32) []int32 {
	if len(ids) < 2 {
		return ids
	}
	syms := make([]bpeSymbol, len(ids))
	for i, id := range ids {
		syms[i] = bpeSymbol{id: id, prev: int32(i - 1), next: int32(i + 1)}
	}
	syms[len(syms)-1].next = -1
	var heap []bpeMerge
	push := func(x bpeMerge) {
		heap = append(heap, x)
		for i := len(heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !mergeLess(heap[i], heap[p]) {
				break
			}
			heap[i], heap[p] = heap[p], heap[i]
			i = p
		}
	}
	pop := func() bpeMerge {
		top := heap[0]
		last := len(heap) - 1
		heap[0] = heap[last]
		heap = heap[:last]
		for i := 0; ; {
			l, r, small := 2*i+1, 2*i+2, i
			if l < len(heap) && mergeLess(heap[l], heap[small]) {
				small = l
			}
			if r < len(heap) && mergeLess(heap[r], heap[small]) {
				small = r
			}
			if small == i {
				break
			}
			heap[i], heap[small] = heap[small], heap[i]
			i = small
		}
		return top
	}
	for i := 0; i+1 < len(ids); i++ {
		if rule, ok := m.merges[pairKey(ids[i], ids[i+1])]; ok {
			push(bpeMerge{pos: int32(i), rank: rule.rank, newID: rule.newID})
		}
	}
	for len(heap) > 0 {
		top := pop()
		cur := &syms[top.pos]
		if cur.removed || cur.next < 0 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if rule, ok := m.merges[pairKey(cur.id, right.id)]; !ok || rule.newID != top.newID {
			continue // stale entry
		}
		cur.id = top.newID
		cur.next = right.next
		syms[nextPos].removed = true
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if rule, ok := m.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				push(bpeMerge{pos: cur.prev, rank: rule.rank, newID: rule.newID})
			}
		}
		if cur.next >= 0 {
			if rule, ok := m.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				push(bpeMerge{pos: top.pos, rank: rule.rank, newID: rule.newID})
			}
		}
	}
	out := make([]int32, 0, len(ids))
	for i := range syms {
		if !syms[i].removed {
			out = append(out, syms[i].id)
		}
	}
	return out
}
