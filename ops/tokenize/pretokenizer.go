package tokenize

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// piece is one pre-token: text plus whether it starts at offset 0 of the
// original input (Metaspace's prepend_scheme "first" looks at that).
type piece struct {
	text    string
	atStart bool
}

// preTokenizer splits (and may rewrite) pieces, like tokenizers' PreTokenizer.
type preTokenizer interface {
	preTokenize(in []piece) []piece
}

// splitBehavior is tokenizers' SplitDelimiterBehavior.
type splitBehavior int

const (
	behaviorRemoved splitBehavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Removed":
		return behaviorRemoved, nil
	case "Isolated":
		return behaviorIsolated, nil
	case "MergedWithPrevious":
		return behaviorMergedWithPrevious, nil
	case "MergedWithNext":
		return behaviorMergedWithNext, nil
	case "Contiguous":
		return behaviorContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

type span struct {
	start, end int
	match      bool
}

// splitString applies a pattern with a delimiter behavior, as
// NormalizedString::split does; empty results are dropped.
func splitString(s string, m matcher, behavior splitBehavior, invert bool) []string {
	if s == "" {
		return nil
	}
	var spans []span
	prev := 0
	for _, mt := range m.findAll(s) {
		if prev != mt[0] {
			spans = append(spans, span{prev, mt[0], false})
		}
		spans = append(spans, span{mt[0], mt[1], true})
		prev = mt[1]
	}
	if prev != len(s) {
		spans = append(spans, span{prev, len(s), false})
	}
	if invert {
		for i := range spans {
			spans[i].match = !spans[i].match
		}
	}
	var out []span
	switch behavior {
	case behaviorIsolated:
		out = spans
	case behaviorRemoved:
		for _, sp := range spans {
			if !sp.match {
				out = append(out, sp)
			}
		}
	case behaviorMergedWithPrevious:
		prevMatch := false
		for _, sp := range spans {
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
	case behaviorMergedWithNext:
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].start = sp.start
			} else {
				out = append(out, sp)
			}
			prevMatch = sp.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case behaviorContiguous:
		for _, sp := range spans {
			if len(out) > 0 && out[len(out)-1].match == sp.match {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, sp)
			}
		}
	}
	res := make([]string, 0, len(out))
	for _, sp := range out {
		if sp.end > sp.start {
			res = append(res, s[sp.start:sp.end])
		}
	}
	return res
}

// splitPieces splits every piece; only the first sub-piece of a piece that
// starts the input keeps atStart.
func splitPieces(in []piece, f func(string) []string) []piece {
	out := make([]piece, 0, len(in))
	for _, p := range in {
		for k, s := range f(p.text) {
			out = append(out, piece{text: s, atStart: p.atStart && k == 0})
		}
	}
	return out
}

type splitPreTok struct {
	m        matcher
	behavior splitBehavior
	invert   bool
}

func (p splitPreTok) preTokenize(in []piece) []piece {
	return splitPieces(in, func(s string) []string { return splitString(s, p.m, p.behavior, p.invert) })
}

type byteLevelPreTok struct {
	addPrefixSpace bool
	useRegex       bool
}

func (p byteLevelPreTok) preTokenize(in []piece) []piece {
	if p.addPrefixSpace {
		for i := range in {
			if !strings.HasPrefix(in[i].text, " ") {
				in[i].text = " " + in[i].text
			}
		}
	}
	if p.useRegex {
		in = splitPieces(in, func(s string) []string { return splitString(s, gpt2Matcher{}, behaviorIsolated, false) })
	}
	for i := range in {
		in[i].text = byteLevelEncode(in[i].text)
	}
	return in
}

type metaspacePreTok struct {
	replacement   string
	prependScheme string // "always", "first", "never"
	split         bool
}

func (p metaspacePreTok) preTokenize(in []piece) []piece {
	for i := range in {
		s := strings.ReplaceAll(in[i].text, " ", p.replacement)
		if !strings.HasPrefix(s, p.replacement) &&
			(p.prependScheme == "always" || (p.prependScheme == "first" && in[i].atStart)) {
			s = p.replacement + s
		}
		in[i].text = s
	}
	if !p.split {
		return in
	}
	lit := literalMatcher{p.replacement}
	return splitPieces(in, func(s string) []string { return splitString(s, lit, behaviorMergedWithNext, false) })
}

// digitsPreTok splits digits from the rest (and from each other if individual).
type digitsPreTok struct{ individual bool }

func (p digitsPreTok) preTokenize(in []piece) []piece {
	behavior := behaviorContiguous
	if p.individual {
		behavior = behaviorIsolated
	}
	m := funcMatcher{pred: unicode.IsDigit, single: p.individual}
	return splitPieces(in, func(s string) []string { return splitString(s, m, behavior, false) })
}

// funcMatcher matches runs (or single runes) satisfying pred.
type funcMatcher struct {
	pred   func(rune) bool
	single bool
}

func (m funcMatcher) findAll(s string) [][2]int {
	var out [][2]int
	for i, r := range s {
		if m.pred(r) {
			w := len(string(r))
			if !m.single && len(out) > 0 && out[len(out)-1][1] == i {
				out[len(out)-1][1] = i + w
			} else {
				out = append(out, [2]int{i, i + w})
			}
		}
	}
	return out
}

// whitespaceSplitPreTok splits on whitespace, dropping it.
type whitespaceSplitPreTok struct{}

func (whitespaceSplitPreTok) preTokenize(in []piece) []piece {
	m := funcMatcher{pred: isRustWhitespace}
	return splitPieces(in, func(s string) []string { return splitString(s, m, behaviorRemoved, false) })
}

// whitespacePreTok is tokenizers' Whitespace: the regex \w+|[^\w\s]+.
type whitespacePreTok struct{ m matcher }

func (p whitespacePreTok) preTokenize(in []piece) []piece {
	return splitPieces(in, func(s string) []string { return splitString(s, p.m, behaviorRemoved, true) })
}

type preTokSeq []preTokenizer

func (q preTokSeq) preTokenize(in []piece) []piece {
	for _, p := range q {
		in = p.preTokenize(in)
	}
	return in
}

// isRustWhitespace is Rust's char::is_whitespace (the White_Space property).
func isRustWhitespace(r rune) bool { return unicode.Is(unicode.White_Space, r) }

func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var head struct {
		Type           string            `json:"type"`
		Pretokenizers  []json.RawMessage `json:"pretokenizers"`
		Pattern        patternJSON       `json:"pattern"`
		Behavior       string            `json:"behavior"`
		Invert         bool              `json:"invert"`
		AddPrefixSpace *bool             `json:"add_prefix_space"`
		UseRegex       *bool             `json:"use_regex"`
		Replacement    string            `json:"replacement"`
		PrependScheme  string            `json:"prepend_scheme"`
		Split          *bool             `json:"split"`
		IndividualDig  bool              `json:"individual_digits"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	boolOr := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	switch head.Type {
	case "Sequence":
		seq, err := parseSequence("pre_tokenizer", head.Pretokenizers, parsePreTokenizer)
		if err != nil {
			return nil, err
		}
		return preTokSeq(seq), nil
	case "Split":
		m, err := head.Pattern.matcher()
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		b, err := parseBehavior(head.Behavior)
		if err != nil {
			return nil, fmt.Errorf("pre_tokenizer Split: %w", err)
		}
		return splitPreTok{m: m, behavior: b, invert: head.Invert}, nil
	case "ByteLevel":
		return byteLevelPreTok{addPrefixSpace: boolOr(head.AddPrefixSpace, true), useRegex: boolOr(head.UseRegex, true)}, nil
	case "Metaspace":
		scheme := head.PrependScheme
		if scheme == "" { // legacy files: add_prefix_space
			scheme = "never"
			if boolOr(head.AddPrefixSpace, true) {
				scheme = "always"
			}
		}
		if scheme != "always" && scheme != "first" && scheme != "never" {
			return nil, fmt.Errorf("pre_tokenizer Metaspace: unknown prepend_scheme %q", scheme)
		}
		rep := head.Replacement
		if rep == "" {
			rep = "▁"
		}
		return metaspacePreTok{replacement: rep, prependScheme: scheme, split: boolOr(head.Split, true)}, nil
	case "Digits":
		return digitsPreTok{individual: head.IndividualDig}, nil
	case "WhitespaceSplit":
		return whitespaceSplitPreTok{}, nil
	case "Whitespace":
		m, err := newRegexMatcher(`\w+|[^\w\s]+`)
		if err != nil {
			return nil, err
		}
		return whitespacePreTok{m}, nil
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer type %q", head.Type)
}
