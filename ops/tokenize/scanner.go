package tokenize

import (
	"unicode"
	"unicode/utf8"
)

// Hand-written matchers equivalent to the pre-tokenizer regexes that real
// models use; they return the same matches as the regex engine (leftmost-first
// alternation with backtracking), tested against regexp2 in scanner_test.go.

// Known regexes, as they appear in tokenizer.json files.
const (
	// Llama-3 (tiktoken cl100k style), digits in groups of up to 3.
	regexLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// Qwen2: like Llama-3 with single digits.
	regexQwen2 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// GPT-2 (also what ByteLevel with use_regex=true applies).
	regexGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// matcher finds all non-overlapping matches of a pattern in s, as byte spans.
type matcher interface {
	findAll(s string) [][2]int
}

const (
	clsOther uint8 = iota
	clsLetter
	clsNumber
	clsSpace
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		r := rune(c)
		switch {
		case unicode.IsLetter(r):
			asciiClass[c] = clsLetter
		case unicode.IsNumber(r):
			asciiClass[c] = clsNumber
		case unicode.IsSpace(r):
			asciiClass[c] = clsSpace
		default:
			asciiClass[c] = clsOther
		}
	}
}

// classAt returns the class of the rune at byte offset i and its width; at the
// end of s it returns (clsOther, 0).
func classAt(s string, i int) (uint8, int) {
	if i >= len(s) {
		return clsOther, 0
	}
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	switch {
	case unicode.IsLetter(r):
		return clsLetter, w
	case unicode.IsNumber(r):
		return clsNumber, w
	case unicode.IsSpace(r):
		return clsSpace, w
	}
	return clsOther, w
}

// runOf returns the end of the run of runes of class cls starting at i.
func runOf(s string, i int, cls uint8) int {
	for i < len(s) {
		c, w := classAt(s, i)
		if c != cls {
			break
		}
		i += w
	}
	return i
}

// contraction matches 's 't 're 've 'm 'll 'd at i (ASCII case-insensitive if
// fold); returns the end or -1.
func contraction(s string, i int, fold bool) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return -1
	}
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v':
		if i+2 < len(s) && lower(s[i+2]) == 'e' {
			return i + 3
		}
	case 'l':
		if i+2 < len(s) && lower(s[i+2]) == 'l' {
			return i + 3
		}
	}
	return -1
}

// whitespaceTail matches `\s+(?!\S)|\s+` at i (s[i] is whitespace).
func whitespaceTail(s string, i int) int {
	j := runOf(s, i, clsSpace)
	if j == len(s) {
		return j
	}
	// Back off one character so the lookahead (?!\S) holds, if anything remains.
	_, lastW := utf8.DecodeLastRuneInString(s[:j])
	if j-lastW > i {
		return j - lastW
	}
	return j
}

// llama3Matcher implements regexLlama3 (maxDigits 3) and regexQwen2 (maxDigits 1).
type llama3Matcher struct{ maxDigits int }

func (m llama3Matcher) findAll(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		j := m.matchAt(s, i)
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

func isCRLF(s string, i int) bool { return i < len(s) && (s[i] == '\r' || s[i] == '\n') }

func (m llama3Matcher) matchAt(s string, i int) int {
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if j := contraction(s, i, true); j >= 0 {
		return j
	}
	c0, w0 := classAt(s, i)
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c0 == clsLetter {
		return runOf(s, i, clsLetter)
	}
	if c0 != clsNumber && !isCRLF(s, i) {
		if c1, _ := classAt(s, i+w0); c1 == clsLetter {
			return runOf(s, i+w0, clsLetter)
		}
	}
	// \p{N}{1,maxDigits}
	if c0 == clsNumber {
		j := i
		for k := 0; k < m.maxDigits; k++ {
			c, w := classAt(s, j)
			if c != clsNumber {
				break
			}
			j += w
		}
		return j
	}
	//  ?[^\s\p{L}\p{N}]+[\r\n]*
	start := -1
	if c0 == clsOther {
		start = i
	} else if s[i] == ' ' {
		if c1, _ := classAt(s, i+1); c1 == clsOther && i+1 < len(s) {
			start = i + 1
		}
	}
	if start >= 0 {
		j := runOf(s, start, clsOther)
		for isCRLF(s, j) {
			j++
		}
		return j
	}
	// Here s[i] is whitespace. \s*[\r\n]+
	j := runOf(s, i, clsSpace)
	lastNL := -1
	for k := i; k < j; k++ {
		if s[k] == '\r' || s[k] == '\n' {
			lastNL = k
		}
	}
	if lastNL >= 0 {
		return lastNL + 1
	}
	// \s+(?!\S)|\s+
	return whitespaceTail(s, i)
}

// gpt2Matcher implements regexGPT2.
type gpt2Matcher struct{}

func (gpt2Matcher) findAll(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		j := gpt2MatchAt(s, i)
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

func gpt2MatchAt(s string, i int) int {
	if j := contraction(s, i, false); j >= 0 {
		return j
	}
	c0, _ := classAt(s, i)
	if c0 != clsSpace {
		return runOf(s, i, c0)
	}
	if s[i] == ' ' && i+1 < len(s) {
		if c1, _ := classAt(s, i+1); c1 != clsSpace {
			return runOf(s, i+1, c1)
		}
	}
	return whitespaceTail(s, i)
}
