package tokenize

import (
	"slices"
	"testing"
)

func TestSplitBehaviors(t *testing.T) {
	// The examples of tokenizers' SplitDelimiterBehavior documentation.
	const text = "the-final--countdown"
	cases := []struct {
		behavior splitBehavior
		want     []string
	}{
		{behaviorRemoved, []string{"the", "final", "countdown"}},
		{behaviorIsolated, []string{"the", "-", "final", "-", "-", "countdown"}},
		{behaviorMergedWithPrevious, []string{"the-", "final-", "-", "countdown"}},
		{behaviorMergedWithNext, []string{"the", "-final", "-", "-countdown"}},
		{behaviorContiguous, []string{"the", "-", "final", "--", "countdown"}},
	}
	for _, c := range cases {
		if got := splitString(text, literalMatcher{"-"}, c.behavior, false); !slices.Equal(got, c.want) {
			t.Errorf("behavior %d: got %q want %q", c.behavior, got, c.want)
		}
	}
	// invert: the pattern marks what to keep.
	if got := splitString("ab12cd3", funcMatcher{pred: func(r rune) bool { return r >= '0' && r <= '9' }}, behaviorRemoved, true); !slices.Equal(got, []string{"12", "3"}) {
		t.Errorf("invert: %q", got)
	}
}

func TestAddedTokenOptions(t *testing.T) {
	toks := []addedToken{
		{ID: 10, Content: "<mask>", LStrip: true, RStrip: true},
		{ID: 11, Content: "yes", SingleWord: true},
		{ID: 12, Content: "<a>"},
		{ID: 13, Content: "<a><b>"},
	}
	pats := []string{"<mask>", "yes", "<a>", "<a><b>"}
	m := newAddedMatcher(toks, pats)
	type seg struct {
		text string
		id   int32
	}
	cases := []struct {
		in   string
		want []seg
	}{
		{"x  <mask>  y", []seg{{"x", -1}, {"  <mask>  ", 10}, {"y", -1}}},
		{"yes eyes yesno yes", []seg{{"yes", 11}, {" eyes yesno ", -1}, {"yes", 12 - 1}}},
		{"<a><b><a>", []seg{{"<a><b>", 13}, {"<a>", 12}}}, // leftmost-longest
	}
	for _, c := range cases {
		var got []seg
		for _, s := range m.split(c.in) {
			got = append(got, seg{s.text, s.id})
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: got %v want %v", c.in, got, c.want)
		}
	}
}
