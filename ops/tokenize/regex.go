package tokenize

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// regexMatcher runs any Oniguruma-style pattern with regexp2 (backtracking,
// supports lookarounds). It is the general fallback; the known patterns use the
// hand-written scanners.
type regexMatcher struct {
	re *regexp2.Regexp
}

func newRegexMatcher(pattern string) (*regexMatcher, error) {
	re, err := regexp2.Compile(pattern, regexp2.Unicode)
	if err != nil {
		return nil, fmt.Errorf("compiling regex %q: %w", pattern, err)
	}
	return &regexMatcher{re: re}, nil
}

func (m *regexMatcher) findAll(s string) [][2]int {
	if s == "" {
		return nil
	}
	runes := []rune(s)
	// byteOff[k] is the byte offset of rune k ([]rune turns each invalid byte
	// into one U+FFFD, so walk s the same way).
	byteOff := make([]int, len(runes)+1)
	off := 0
	for k := range runes {
		byteOff[k] = off
		_, w := utf8.DecodeRuneInString(s[off:])
		off += w
	}
	byteOff[len(runes)] = off
	var out [][2]int
	match, err := m.re.FindRunesMatch(runes)
	for err == nil && match != nil {
		out = append(out, [2]int{byteOff[match.Index], byteOff[match.Index+match.Length]})
		match, err = m.re.FindNextMatch(match)
	}
	return out
}

// literalMatcher finds a fixed string (Split/Replace with a String pattern).
type literalMatcher struct{ lit string }

func (m literalMatcher) findAll(s string) [][2]int {
	if m.lit == "" {
		return nil
	}
	var out [][2]int
	for i := 0; ; {
		k := strings.Index(s[i:], m.lit)
		if k < 0 {
			return out
		}
		out = append(out, [2]int{i + k, i + k + len(m.lit)})
		i += k + len(m.lit)
	}
}

// newMatcher picks the scanner for a known regex and regexp2 for the rest.
func newMatcher(pattern string, isRegex bool) (matcher, error) {
	if !isRegex {
		return literalMatcher{pattern}, nil
	}
	switch pattern {
	case regexLlama3:
		return llama3Matcher{maxDigits: 3}, nil
	case regexQwen2:
		return llama3Matcher{maxDigits: 1}, nil
	case regexGPT2:
		return gpt2Matcher{}, nil
	}
	return newRegexMatcher(pattern)
}
