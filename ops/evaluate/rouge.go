package evaluate

import (
	"strings"
)

// ROUGE-L as Google's rouge_score package computes it (the reference the
// harness and Hugging Face's `evaluate` wrap), written from its definitions
// in google-research/rouge/rouge_scorer.py and rouge/tokenize.py:
//
//   - tokens: lower-case the text, replace every run of characters outside
//     [a-z0-9] by a space, split on whitespace, drop empty tokens; with
//     Rouge.UseStemmer (rouge_score's use_stemmer=True; off by default, as
//     there) tokens longer than 3 characters are Porter-stemmed (PorterStem);
//   - rougeL (sentence level): LCS over the whole token lists, P = lcs/len(pred),
//     R = lcs/len(target), F = 2PR/(P+R) (0 when either side is empty);
//   - rougeLsum (summary level, section 3.2 of Lin 2004): target and
//     prediction are split into sentences on "\n" (empty lines dropped); for
//     each target sentence the union of its LCS positions against every
//     prediction sentence is taken, and each token of that union counts as a
//     hit while both sides still have an unused occurrence of it (ROUGE
//     1.5.5's guard against double counting); P = hits/predicted tokens,
//     R = hits/target tokens.

// RougeScore is one precision/recall/F triple.
type RougeScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F         float64 `json:"fmeasure"`
}

// Rouge computes ROUGE-L scores; the zero value is rouge_score's default
// RougeScorer(["rougeL", "rougeLsum"]) (no stemming).
type Rouge struct {
	UseStemmer bool // Porter-stem tokens longer than 3 characters (rouge_score's use_stemmer)
}

// RougeTokens is rouge_score's tokenizer without stemming.
func RougeTokens(text string) []string { return Rouge{}.Tokens(text) }

// RougeL is the sentence-level ROUGE-L without stemming.
func RougeL(target, prediction string) RougeScore { return Rouge{}.L(target, prediction) }

// RougeLsum is the summary-level ROUGE-L without stemming.
func RougeLsum(target, prediction string) RougeScore { return Rouge{}.Lsum(target, prediction) }

// Tokens is rouge_score's tokenize.tokenize with this scorer's stemmer.
func (r Rouge) Tokens(text string) []string {
	tokens := rougeWords(text)
	if r.UseStemmer {
		for i, w := range tokens {
			if len(w) > 3 {
				tokens[i] = PorterStem(w)
			}
		}
	}
	return tokens
}

// rougeWords lower-cases text and splits it on runs of characters outside [a-z0-9].
func rougeWords(text string) []string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// L is the sentence-level ROUGE-L (rouge_score's "rougeL") of prediction
// against target.
func (r Rouge) L(target, prediction string) RougeScore {
	t, p := r.Tokens(target), r.Tokens(prediction)
	if len(t) == 0 || len(p) == 0 {
		return RougeScore{}
	}
	lcs := lcsTable(t, p)[len(t)][len(p)]
	return newRougeScore(float64(lcs), len(p), len(t))
}

// Lsum is the summary-level ROUGE-L (rouge_score's "rougeLsum") of
// prediction against target, sentences separated by "\n".
func (r Rouge) Lsum(target, prediction string) RougeScore {
	ref, cand := r.sentences(target), r.sentences(prediction)
	m, n := 0, 0
	refCount, candCount := map[string]int{}, map[string]int{}
	for _, s := range ref {
		m += len(s)
		for _, w := range s {
			refCount[w]++
		}
	}
	for _, s := range cand {
		n += len(s)
		for _, w := range s {
			candCount[w]++
		}
	}
	if m == 0 || n == 0 {
		return RougeScore{}
	}
	hits := 0
	for _, r := range ref {
		for _, w := range unionLCS(r, cand) {
			if refCount[w] > 0 && candCount[w] > 0 {
				hits++
				refCount[w]--
				candCount[w]--
			}
		}
	}
	return newRougeScore(float64(hits), n, m)
}

func newRougeScore(hits float64, predLen, targetLen int) RougeScore {
	p, r := hits/float64(predLen), hits/float64(targetLen)
	s := RougeScore{Precision: p, Recall: r}
	if p+r > 0 {
		s.F = 2 * p * r / (p + r)
	}
	return s
}

func (r Rouge) sentences(text string) [][]string {
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		if line != "" {
			out = append(out, r.Tokens(line))
		}
	}
	return out
}

// lcsTable is the dynamic-programming table of longest common subsequence
// lengths: t[i][j] = LCS(a[:i], b[:j]).
func lcsTable(a, b []string) [][]int {
	t := make([][]int, len(a)+1)
	for i := range t {
		t[i] = make([]int, len(b)+1)
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				t[i][j] = t[i-1][j-1] + 1
			} else {
				t[i][j] = max(t[i-1][j], t[i][j-1])
			}
		}
	}
	return t
}

// lcsPositions returns the positions in ref of one longest common
// subsequence with cand, read back from the end of the table preferring to
// drop a ref token on ties (the choice rouge_score makes).
func lcsPositions(ref, cand []string) []int {
	t := lcsTable(ref, cand)
	var pos []int
	for i, j := len(ref), len(cand); i > 0 && j > 0; {
		switch {
		case ref[i-1] == cand[j-1]:
			pos = append(pos, i-1)
			i, j = i-1, j-1
		case t[i][j-1] > t[i-1][j]:
			j--
		default:
			i--
		}
	}
	for l, r := 0, len(pos)-1; l < r; l, r = l+1, r-1 {
		pos[l], pos[r] = pos[r], pos[l]
	}
	return pos
}

// unionLCS returns the tokens of ref at the union of its LCS positions with
// every candidate sentence, in ref order.
func unionLCS(ref []string, cands [][]string) []string {
	in := make([]bool, len(ref))
	for _, c := range cands {
		for _, p := range lcsPositions(ref, c) {
			in[p] = true
		}
	}
	var out []string
	for i, ok := range in {
		if ok {
			out = append(out, ref[i])
		}
	}
	return out
}
