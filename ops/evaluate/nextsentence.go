package evaluate

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/gominitron/gominitron/internal/fileio"
)

// NextSentenceOptions configures BuildNextSentenceTask.
type NextSentenceOptions struct {
	N                int    // items to build (fewer if the corpus has fewer eligible positions)
	Seed             uint64 // the same seed and documents give the same items
	PassageSentences int    // sentences of passage before the true next sentence (default 3)
	Choices          int    // options per item: the true sentence + Choices-1 distractors (default 4)
	MinWords         int    // shortest sentence (in words) used as an option (default 4)
}

// SplitSentences splits text into sentences: a sentence ends at '.', '!' or
// '?' (plus any closing quotes or brackets) followed by whitespace, or at a
// blank line. Whitespace inside a sentence is collapsed to single spaces.
func SplitSentences(text string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.Join(strings.Fields(cur.String()), " ")
		if s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '\n' && blankLineAt(rs, i) {
			flush()
			continue
		}
		cur.WriteRune(r)
		if r == '.' || r == '!' || r == '?' {
			j := i + 1
			for j < len(rs) && strings.ContainsRune(`"')]”’»`, rs[j]) {
				cur.WriteRune(rs[j])
				j++
			}
			if j == len(rs) || unicode.IsSpace(rs[j]) {
				flush()
			}
			i = j - 1
		}
	}
	flush()
	return out
}

// blankLineAt reports whether the newline at rs[i] is followed by only
// spaces/tabs and another newline (a paragraph break).
func blankLineAt(rs []rune, i int) bool {
	for j := i + 1; j < len(rs); j++ {
		switch rs[j] {
		case ' ', '\t', '\r':
			continue
		case '\n':
			return true
		default:
			return false
		}
	}
	return false
}

// BuildNextSentenceTask builds "given a passage, pick its true next
// sentence" items from held-out documents: a passage of PassageSentences
// consecutive sentences, its true next sentence, and Choices-1 distractor
// sentences drawn from other documents; options are shuffled. Deterministic
// for a given seed and document list.
func BuildNextSentenceTask(docs []string, opts NextSentenceOptions) ([]MCItem, error) {
	if opts.N <= 0 {
		return nil, fmt.Errorf("evaluate: next-sentence task: N must be positive, got %d", opts.N)
	}
	if opts.PassageSentences <= 0 {
		opts.PassageSentences = 3
	}
	if opts.Choices <= 0 {
		opts.Choices = 4
	}
	if opts.Choices < 2 {
		return nil, fmt.Errorf("evaluate: next-sentence task needs at least 2 choices, got %d", opts.Choices)
	}
	if opts.MinWords <= 0 {
		opts.MinWords = 4
	}
	sents := make([][]string, len(docs))
	type pos struct{ doc, sent int }
	var positions []pos // eligible (document, true next sentence) pairs
	var pool []pos      // every sentence usable as an option
	for d, text := range docs {
		sents[d] = SplitSentences(text)
		for s, sent := range sents[d] {
			if len(strings.Fields(sent)) < opts.MinWords {
				continue
			}
			pool = append(pool, pos{d, s})
			if s >= opts.PassageSentences {
				positions = append(positions, pos{d, s})
			}
		}
	}
	if len(positions) == 0 {
		return nil, fmt.Errorf("evaluate: next-sentence task: no document has %d sentences followed by one of at least %d words",
			opts.PassageSentences, opts.MinWords)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed5e17))
	rng.Shuffle(len(positions), func(i, j int) { positions[i], positions[j] = positions[j], positions[i] })
	var items []MCItem
	for _, p := range positions {
		if len(items) == opts.N {
			break
		}
		truth := sents[p.doc][p.sent]
		options := []string{truth}
		for tries := 0; len(options) < opts.Choices && tries < 100*opts.Choices; tries++ {
			q := pool[rng.IntN(len(pool))]
			cand := sents[q.doc][q.sent]
			if q.doc == p.doc || contains(options, cand) {
				continue
			}
			options = append(options, cand)
		}
		if len(options) < opts.Choices {
			return nil, fmt.Errorf("evaluate: next-sentence task: too few distinct sentences in other documents for %d choices", opts.Choices)
		}
		rng.Shuffle(len(options), func(i, j int) { options[i], options[j] = options[j], options[i] })
		label := 0
		for i, o := range options {
			if o == truth {
				label = i
			}
		}
		passage := strings.Join(sents[p.doc][p.sent-opts.PassageSentences:p.sent], " ")
		items = append(items, MCItem{Context: passage, Choices: options, Label: label})
	}
	return items, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// WriteMCItems writes items as JSON Lines in the generic {context, choices,
// label} form, atomically (temp file in the same directory + rename).
func WriteMCItems(path string, items []MCItem) error {
	err := fileio.WriteStream(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, it := range items {
			if err := enc.Encode(it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return nil
}
