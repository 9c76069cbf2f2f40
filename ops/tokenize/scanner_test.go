package tokenize

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// scannerCases are strings that hit every alternative of the known regexes.
var scannerCases = []string{
	"", "a", " ", "\n", "Hello  world!\n\nNew paragraph\twith tabs and    spaces   ",
	"Numbers: 1234567 3.14159 -42 1,000,000", "I'll we've they're she'd DON'T 'S 'Re",
	"Unicode: café naïve 日本語 😀 Ωmega — “quotes”", "  \n  x", "\r\n\r\n", " \t ", "x  ",
	"(hello) [world] ...\n", "a'b 'x ''s", "١٢٣٤ ⅣⅤ ²³", "\u00a0a\u2003 b\u3000", "!!!\n\n\nfoo",
	"\xff\xfe bad \xc3", "tab\tx\t\ty", "   leading", "trailing\n  ", "a\u0301b", "'", "'l", "'ll",
}

// randomText draws characters from a pool that stresses the class boundaries.
func randomText(rng *rand.Rand, n int) string {
	pool := []string{"a", "Z", "é", "日", "Ω", "1", "9", "٣", "²", " ", " ", "  ", "\t", "\n", "\r", "\u00a0", "\u2028",
		"'", "'s", "'LL", "'ve", ".", ",", "!", "-", "😀", "—", "_", "\u0301", "\x00", "$"}
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(pool[rng.IntN(len(pool))])
	}
	return sb.String()
}

func TestScannersMatchRegexp2(t *testing.T) {
	const numRandom = 3000
	for _, pattern := range []string{regexLlama3, regexQwen2, regexGPT2} {
		fast, err := newMatcher(pattern, true)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := newRegexMatcher(pattern)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		inputs := append([]string{}, scannerCases...)
		for i := 0; i < numRandom; i++ {
			inputs = append(inputs, randomText(rng, 1+rng.IntN(30)))
		}
		for _, s := range inputs {
			got, want := fast.findAll(s), slow.findAll(s)
			if len(got) != len(want) {
				t.Fatalf("pattern %.20q text %q: scanner %v, regexp2 %v", pattern, s, got, want)
			}
			for k := range got {
				if got[k] != want[k] {
					t.Fatalf("pattern %.20q text %q: scanner %v, regexp2 %v", pattern, s, got, want)
				}
			}
		}
	}
}

func FuzzLlama3Scanner(f *testing.F) {
	for _, s := range scannerCases {
		f.Add(s)
	}
	slow, err := newRegexMatcher(regexLlama3)
	if err != nil {
		f.Fatal(err)
	}
	fast := llama3Matcher{maxDigits: 3}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := fast.findAll(s), slow.findAll(s)
		if len(got) != len(want) {
			t.Fatalf("text %q: scanner %v, regexp2 %v", s, got, want)
		}
		for k := range got {
			if got[k] != want[k] {
				t.Fatalf("text %q: scanner %v, regexp2 %v", s, got, want)
			}
		}
	})
}
