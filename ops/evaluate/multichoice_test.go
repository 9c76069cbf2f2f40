package evaluate

import (
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const statTolerance = 1e-12

func TestScoreMCAccAndAccNorm(t *testing.T) {
	docs := []Doc{
		// acc picks the short choice 0 (-2 > -3), acc_norm picks the long choice 1 (-3/6 > -2/2).
		{Text: "q", Choices: []string{"ab", "abcdef"}, Gold: 1},
		// both pick choice 0 (gold).
		{Text: "q", Choices: []string{"abc", "abc"}, Gold: 0},
		// length in UTF-8 bytes, not code points: "éé" is 4 bytes (2 chars): -2/4 > -3.9/4 → acc_norm picks 0
		// by bytes (by chars it would pick 1: -2/2 < -3.9/4).
		{Text: "q", Choices: []string{"éé", "abcd"}, Gold: 0},
		// partial (Winogrande): acc_norm equals acc.
		{Choices: []string{"x", "much longer context"}, Target: "t", Gold: 0, Partial: true},
	}
	lls := [][]float64{{-2, -3}, {-1, -5}, {-2, -3.9}, {-1, -1.5}}
	r := ScoreMC(docs, lls)
	if !reflect.DeepEqual(r.Pred, []int{0, 0, 0, 0}) {
		t.Errorf("Pred = %v", r.Pred)
	}
	if !reflect.DeepEqual(r.PredNrm, []int{1, 0, 0, 0}) {
		t.Errorf("PredNrm = %v", r.PredNrm)
	}
	// acc: hits 0,1,1,1 → 0.75; acc_norm: 1,1,1,1 → 1.
	if r.Acc != 0.75 || r.AccNorm != 1 || r.N != 4 {
		t.Errorf("acc %v acc_norm %v n %d", r.Acc, r.AccNorm, r.N)
	}
	if want := math.Sqrt(0.75 * 0.25 / 3); math.Abs(r.Stderr-want) > statTolerance {
		t.Errorf("stderr %v, want sqrt(p(1-p)/(n-1)) = %v", r.Stderr, want)
	}
	if r.AccNormStderr != 0 {
		t.Errorf("acc_norm stderr %v, want 0", r.AccNormStderr)
	}
}

func TestMeanStderr(t *testing.T) {
	cases := []struct {
		xs         []float64
		mean, serr float64
	}{
		{nil, 0, 0},
		{[]float64{1}, 1, 0},
		{[]float64{1, 0}, 0.5, 0.5},
		{[]float64{1, 1, 0, 0, 0}, 0.4, math.Sqrt(0.4 * 0.6 / 4)},
	}
	for _, c := range cases {
		m, s := MeanStderr(c.xs)
		if math.Abs(m-c.mean) > statTolerance || math.Abs(s-c.serr) > statTolerance {
			t.Errorf("MeanStderr(%v) = %v, %v; want %v, %v", c.xs, m, s, c.mean, c.serr)
		}
	}
}

func TestContextsFewShot(t *testing.T) {
	docs := []Doc{
		{Text: "Q0", Choices: []string{"a0", "b0"}, Gold: 0},
		{Text: "Q1", Choices: []string{"a1", "b1"}, Gold: 1},
		{Text: "Q2", Choices: []string{"a2", "b2"}, Gold: 0},
		{Choices: []string{"P3 x", "P3 y"}, Target: "rest3", Gold: 1, Partial: true},
	}
	zero, err := Contexts(docs, 4, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]string{{"Q1", " a1"}, {"Q1", " b1"}}; !reflect.DeepEqual(zero[1], want) {
		t.Errorf("zero-shot doc 1: %q, want %q", zero[1], want)
	}
	if want := [][2]string{{"P3 x", " rest3"}, {"P3 y", " rest3"}}; !reflect.DeepEqual(zero[3], want) {
		t.Errorf("zero-shot partial doc: %q, want %q", zero[3], want)
	}

	shots := map[int]string{0: "Q0 a0", 1: "Q1 b1", 2: "Q2 a2", 3: "P3 y rest3"}
	a, err := Contexts(docs, 4, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Contexts(docs, 4, 2, 7)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different prompts")
	}
	differs := false
	for seed := uint64(8); seed < 20 && !differs; seed++ {
		c, _ := Contexts(docs, 4, 2, seed)
		differs = !reflect.DeepEqual(a, c)
	}
	if !differs {
		t.Error("the seed never changes the few-shot sample")
	}
	for i, pairs := range a {
		prompt := pairs[0][0]
		parts := strings.Split(prompt, FewshotDelimiter)
		if len(parts) != 3 {
			t.Fatalf("doc %d: prompt %q has %d parts, want 2 shots + the question", i, prompt, len(parts))
		}
		for _, shot := range parts[:2] {
			if shot == shots[i] {
				t.Errorf("doc %d: its own solution %q is among its shots", i, shot)
			}
			found := false
			for _, s := range shots {
				found = found || s == shot
			}
			if !found {
				t.Errorf("doc %d: shot %q is not a solved doc", i, shot)
			}
		}
		if parts[0] == parts[1] {
			t.Errorf("doc %d: the same shot twice", i)
		}
		for c, p := range pairs { // every choice shares the few-shot prefix
			if !strings.HasPrefix(p[0], parts[0]+FewshotDelimiter+parts[1]+FewshotDelimiter) {
				t.Errorf("doc %d choice %d: prompt %q lost the prefix", i, c, p[0])
			}
		}
	}
	first, _ := Contexts(docs, 4, 2, 99, true)
	if got := first[0][0][0]; got != "Q1 b1\n\nQ2 a2\n\nQ0" {
		t.Errorf("first-n shots for doc 0: %q", got)
	}
	if got := first[2][1]; got != [2]string{"Q0 a0\n\nQ1 b1\n\nQ2", " b2"} {
		t.Errorf("first-n shots for doc 2: %q", got)
	}
	described := append([]Doc{{Text: "Q", Choices: []string{"x", "y"}, Description: "About things.\n\n"}}, docs...)
	withDesc, _ := Contexts(described, 1, 1, 5, true)
	if got := withDesc[0][0][0]; got != "About things.\n\nQ0 a0\n\nQ" {
		t.Errorf("description before the shots: %q", got)
	}
	if _, err := Contexts(docs, 4, 4, 1); err == nil {
		t.Error("4 shots from 4 docs: no error")
	}
}

// TestContextsFromFewshotSplit: with a separate few-shot split the examples
// are its docs (k drawn per doc by the harness's sampler, or its first k),
// the evaluated docs never serve as examples, and each doc keeps its own text.
func TestContextsFromFewshotSplit(t *testing.T) {
	docs := []Doc{{Text: "Q0", Choices: []string{"a0", "b0"}}, {Text: "Q1", Choices: []string{"a1", "b1"}}}
	var few []Doc
	for _, s := range []string{"F0", "F1", "F2", "F3", "F4"} {
		few = append(few, Doc{Text: s, Choices: []string{"x", "y"}, Gold: 1})
	}
	first, err := ContextsFrom(docs, few, 2, 2, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		if want := "F0 y\n\nF1 y\n\nQ" + strconv.Itoa(i); first[i][0][0] != want {
			t.Errorf("first_n doc %d: %q, want %q", i, first[i][0][0], want)
		}
	}
	sampled, err := ContextsFrom(docs, few, 2, 3, 1234, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := NewPyRandom(1234) // CPython's stream (TestPyRandomMatchesCPython)
	for i := range docs {
		want := ""
		for _, j := range rng.Sample(len(few), 3) {
			want += few[j].Text + " y" + FewshotDelimiter
		}
		if want += docs[i].Text; sampled[i][1][0] != want {
			t.Errorf("sampled doc %d: %q, want %q", i, sampled[i][1][0], want)
		}
	}
	if _, err := ContextsFrom(docs, few, 2, 6, 1, false); err == nil {
		t.Error("6 shots from a 5-doc few-shot split: no error")
	}
}

// constScorer returns a fixed log-likelihood per continuation length, to
// test MultipleChoice's plumbing (request order, grouping per doc).
type lenScorer struct{}

func (lenScorer) LogLikelihoods(reqs []Request) ([]Result, error) {
	out := make([]Result, len(reqs))
	for i, r := range reqs {
		out[i].LogLik = -float64(len(r.Continuation))
	}
	return out, nil
}

func TestMultipleChoicePlumbing(t *testing.T) {
	docs := []Doc{
		{Text: "t1", Choices: []string{"t2 t3", "t4"}, Gold: 1},
		{Text: "t1", Choices: []string{"t2", "t3 t4 t5", "t6 t7"}, Gold: 2},
	}
	enc := &Encoder{Tok: pieceTokenizer{vocab: 50}, PrefixToken: 0}
	r, err := MultipleChoice(lenScorer{}, enc, docs, MCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]float64{{-2, -1}, {-1, -3, -2}}; !reflect.DeepEqual(r.LogLiks, want) {
		t.Errorf("LogLiks %v, want %v", r.LogLiks, want)
	}
	if r.Acc != 0.5 || r.N != 2 {
		t.Errorf("acc %v n %d", r.Acc, r.N)
	}
	lim, _ := MultipleChoice(lenScorer{}, enc, docs, MCOptions{Limit: 1})
	if lim.N != 1 || lim.Acc != 1 {
		t.Errorf("Limit 1: n %d acc %v", lim.N, lim.Acc)
	}
}

// recordingScorer remembers the requests and scores a request by a table
// keyed on the last context token.
type recordingScorer struct {
	reqs  []Request
	byCtx map[int32]float64
}

func (s *recordingScorer) LogLikelihoods(reqs []Request) ([]Result, error) {
	s.reqs = append(s.reqs, reqs...)
	out := make([]Result, len(reqs))
	for i, r := range reqs {
		out[i].LogLik = s.byCtx[r.Context[len(r.Context)-1]]
	}
	return out, nil
}

// TestWinograndePartialScoring: one request per option, contexts differ
// (prefix + option), the continuation is the shared suffix, and the option
// whose context makes the suffix more likely wins.
func TestWinograndePartialScoring(t *testing.T) {
	path := t.TempDir() + "/w.jsonl"
	line := `{"sentence": "t1 t2 _ t7 t8", "option1": "t3", "option2": "t4", "answer": "2"}`
	if err := os.WriteFile(path, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	docs, err := ReadTask(path, FormatWinogrande)
	if err != nil {
		t.Fatal(err)
	}
	enc := &Encoder{Tok: pieceTokenizer{vocab: 50}, PrefixToken: 0}
	for _, c := range []struct {
		ll3, ll4 float64
		acc      float64
	}{{-5, -2, 1}, {-2, -5, 0}} {
		sc := &recordingScorer{byCtx: map[int32]float64{3: c.ll3, 4: c.ll4}}
		r, err := MultipleChoice(sc, enc, docs, MCOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []Request{
			{Context: []int32{1, 2, 3}, Continuation: []int32{7, 8}},
			{Context: []int32{1, 2, 4}, Continuation: []int32{7, 8}},
		}
		if !reflect.DeepEqual(sc.reqs, want) {
			t.Errorf("requests %v, want %v", sc.reqs, want)
		}
		if r.Acc != c.acc || r.AccNorm != c.acc {
			t.Errorf("logliks (%v, %v): acc %v acc_norm %v, want %v", c.ll3, c.ll4, r.Acc, r.AccNorm, c.acc)
		}
	}
}
