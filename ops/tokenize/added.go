package tokenize

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID         int32  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedMatcher finds added tokens leftmost-longest (like tokenizers'
// Aho-Corasick with MatchKind::LeftmostLongest) and applies
// lstrip/rstrip/single_word.
type addedMatcher struct {
	tokens  []addedToken
	pattern []string       // what to look for (normalized content for normalized tokens)
	byFirst map[byte][]int // first byte → indices, longest pattern first
}

func newAddedMatcher(tokens []addedToken, patterns []string) *addedMatcher {
	m := &addedMatcher{tokens: tokens, pattern: patterns, byFirst: map[byte][]int{}}
	for i, p := range patterns {
		if p == "" {
			continue
		}
		m.byFirst[p[0]] = append(m.byFirst[p[0]], i)
	}
	for _, idx := range m.byFirst {
		sort.SliceStable(idx, func(a, b int) bool { return len(patterns[idx[a]]) > len(patterns[idx[b]]) })
	}
	return m
}

// segment is a part of the input: either an added token (id >= 0) or text.
type segment struct {
	text  string
	id    int32
	start int // byte offset in the string that was split
}

// split cuts s into text segments and added-token segments.
func (m *addedMatcher) split(s string) []segment {
	if m == nil || len(m.byFirst) == 0 || s == "" {
		return []segment{{text: s, id: -1}}
	}
	var out []segment
	startOffset := 0
	pos := 0
	for pos < len(s) {
		// Leftmost match at or after pos, longest among those at that position.
		mStart, mIdx := -1, -1
		for i := pos; i < len(s) && mStart < 0; i++ {
			for _, k := range m.byFirst[s[i]] {
				p := m.pattern[k]
				if len(s)-i >= len(p) && s[i:i+len(p)] == p {
					mStart, mIdx = i, k
					break
				}
			}
		}
		if mStart < 0 {
			break
		}
		start, stop := mStart, mStart+len(m.pattern[mIdx])
		pos = stop // the automaton resumes after the raw match
		tok := m.tokens[mIdx]
		if tok.SingleWord {
			startOK := start == 0 || !endsWithWord(s[:start])
			stopOK := stop == len(s) || !startsWithWord(s[stop:])
			if !startOK || !stopOK {
				continue
			}
		}
		if tok.LStrip {
			newStart := start
			for newStart > 0 {
				r, w := utf8.DecodeLastRuneInString(s[:newStart])
				if !unicode.IsSpace(r) {
					break
				}
				newStart -= w
			}
			start = max(newStart, startOffset)
		}
		if tok.RStrip {
			for stop < len(s) {
				r, w := utf8.DecodeRuneInString(s[stop:])
				if !unicode.IsSpace(r) {
					break
				}
				stop += w
			}
		}
		if startOffset < start {
			out = append(out, segment{text: s[startOffset:start], id: -1, start: startOffset})
		}
		out = append(out, segment{text: s[start:stop], id: tok.ID, start: start})
		startOffset = stop
	}
	if startOffset < len(s) {
		out = append(out, segment{text: s[startOffset:], id: -1, start: startOffset})
	}
	return out
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || unicode.Is(unicode.Pc, r)
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isWordRune(r)
}
