package tokenize

import (
	"strings"
	"testing"
)

// benchText is the sample corpus repeated (about 50 KB).
func benchText(b *testing.B) string {
	return strings.Repeat(sampleText(b), 100)
}

func BenchmarkEncodeFixture(b *testing.B) {
	tok, err := Load(fixtureDir)
	if err != nil {
		b.Fatal(err)
	}
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	n := 0
	for b.Loop() {
		n += len(tok.Encode(text, false))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkLlama3Scanner(b *testing.B) {
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	m := llama3Matcher{maxDigits: 3}
	for b.Loop() {
		m.findAll(text)
	}
}

func BenchmarkLlama3Regexp2(b *testing.B) {
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	m, err := newRegexMatcher(regexLlama3)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m.findAll(text)
	}
}
