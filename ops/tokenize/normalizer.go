package tokenize

import (
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before pre-tokenization (tokenizers' normalizers).
type normalizer interface {
	normalize(s string) string
}

type unicodeNorm struct{ form norm.Form }

func (n unicodeNorm) normalize(s string) string { return n.form.String(s) }

type lowercase struct{}

func (lowercase) normalize(s string) string { return strings.ToLower(s) }

type strip struct{ left, right bool }

func (n strip) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, isRustWhitespace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, isRustWhitespace)
	}
	return s
}

type prepend struct{ prefix string }

// normalize prepends only to non-empty strings, as tokenizers does.
func (n prepend) normalize(s string) string {
	if s == "" {
		return s
	}
	return n.prefix + s
}

type replace struct {
	m       matcher
	content string
}

func (n replace) normalize(s string) string { return replaceAll(s, n.m, n.content) }

func replaceAll(s string, m matcher, content string) string {
	spans := m.findAll(s)
	if len(spans) == 0 {
		return s
	}
	var sb strings.Builder
	prev := 0
	for _, sp := range spans {
		sb.WriteString(s[prev:sp[0]])
		sb.WriteString(content)
		prev = sp[1]
	}
	sb.WriteString(s[prev:])
	return sb.String()
}

type normalizerSeq []normalizer

func (q normalizerSeq) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}

// patternJSON is tokenizers' {"String": "..."} or {"Regex": "..."}.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func (p patternJSON) matcher() (matcher, error) {
	switch {
	case p.String != nil:
		return newMatcher(*p.String, false)
	case p.Regex != nil:
		return newMatcher(*p.Regex, true)
	}
	return nil, fmt.Errorf("pattern has neither String nor Regex")
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	var head struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
		Prepend     string            `json:"prepend"`
		Pattern     patternJSON       `json:"pattern"`
		Content     string            `json:"content"`
		StripLeft   bool              `json:"strip_left"`
		StripRight  bool              `json:"strip_right"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	switch head.Type {
	case "NFC":
		return unicodeNorm{norm.NFC}, nil
	case "NFD":
		return unicodeNorm{norm.NFD}, nil
	case "NFKC":
		return unicodeNorm{norm.NFKC}, nil
	case "NFKD":
		return unicodeNorm{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "Strip":
		return strip{head.StripLeft, head.StripRight}, nil
	case "Prepend":
		return prepend{head.Prepend}, nil
	case "Replace":
		m, err := head.Pattern.matcher()
		if err != nil {
			return nil, fmt.Errorf("normalizer Replace: %w", err)
		}
		return replace{m, head.Content}, nil
	case "Sequence":
		seq, err := parseSequence("normalizer", head.Normalizers, parseNormalizer)
		if err != nil {
			return nil, err
		}
		return normalizerSeq(seq), nil
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", head.Type)
}

// parseSequence parses the members of a "Sequence" component (normalizer,
// pre_tokenizer, post_processor or decoder kind) with parse, dropping the
// null ones; errors name the member's index.
func parseSequence[T comparable](kind string, members []json.RawMessage, parse func(json.RawMessage) (T, error)) ([]T, error) {
	var seq []T
	var null T
	for i, raw := range members {
		c, err := parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%s Sequence[%d]: %w", kind, i, err)
		}
		if c != null {
			seq = append(seq, c)
		}
	}
	return seq, nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}
