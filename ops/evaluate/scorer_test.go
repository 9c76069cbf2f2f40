package evaluate

import (
	"hash/fnv"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"testing"
)

// pieceTokenizer is a test tokenizer in the GPT-2 spirit: a piece is an
// optional leading space plus a run of non-space characters, or a run of
// whitespace. A piece " t<N>" or "t<N>" is token N; any other piece is a
// hash of its text into [3, vocab).
type pieceTokenizer struct{ vocab int }

var pieceRE = regexp.MustCompile(`\s?\S+|\s+`)
var idPieceRE = regexp.MustCompile(`^\s?t(\d+)$`)

func (p pieceTokenizer) Encode(text string) ([]int32, error) {
	var ids []int32
	for _, piece := range pieceRE.FindAllString(text, -1) {
		if m := idPieceRE.FindStringSubmatch(piece); m != nil {
			n, _ := strconv.Atoi(m[1])
			ids = append(ids, int32(n))
			continue
		}
		h := fnv.New32a()
		h.Write([]byte(piece))
		ids = append(ids, int32(3+int(h.Sum32()%uint32(p.vocab-3))))
	}
	return ids, nil
}

func TestEncodePair(t *testing.T) {
	enc := &Encoder{Tok: pieceTokenizer{vocab: 100}, PrefixToken: 1}
	cases := []struct {
		name, ctx, cont string
		want            Request
	}{
		{"plain", "t5 t6", " t7 t8", Request{Context: []int32{5, 6}, Continuation: []int32{7, 8}}},
		{"trailing space moves to the continuation", "t5 t6 ", "t7", Request{Context: []int32{5, 6}, Continuation: []int32{7}}},
		{"empty context uses the prefix token", "", "t9 t10", Request{Context: []int32{1}, Continuation: []int32{9, 10}}},
		{"whitespace-only context", " ", "t9", Request{Context: []int32{1}, Continuation: []int32{9}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := enc.EncodePair(c.ctx, c.cont)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	bos := &Encoder{Tok: pieceTokenizer{vocab: 100}, PrefixToken: 1, AddBOS: true}
	got, err := bos.EncodePair("t5", " t7")
	if err != nil || !reflect.DeepEqual(got, Request{Context: []int32{1, 5}, Continuation: []int32{7}}) {
		t.Errorf("AddBOS: got %+v, %v", got, err)
	}
	noPrefix := &Encoder{Tok: pieceTokenizer{vocab: 100}, PrefixToken: -1}
	if _, err := noPrefix.EncodePair("", "t1"); err == nil {
		t.Error("empty context without a prefix token: no error")
	}
}

// tableProber scores token t at position p (its index in the sequence) as
// -(t + p/10): deterministic, position-dependent, easy to sum by hand.
type tableProber struct {
	maxLen, batch int
	calls         [][]int // sequence lengths per call
}

func (m *tableProber) MaxLen() int    { return m.maxLen }
func (m *tableProber) BatchSize() int { return m.batch }
func (m *tableProber) LogProbs(seqs [][]int32) ([]SeqLogProbs, error) {
	var lens []int
	out := make([]SeqLogProbs, len(seqs))
	for i, s := range seqs {
		lens = append(lens, len(s))
		for p := 1; p < len(s); p++ {
			out[i].LogProbs = append(out[i].LogProbs, -(float64(s[p]) + float64(p)/10))
			out[i].Greedy = append(out[i].Greedy, s[p] == 0)
		}
	}
	m.calls = append(m.calls, lens)
	return out, nil
}

const sumTolerance = 1e-12

func TestSeqScorerSumsAndTruncates(t *testing.T) {
	m := &tableProber{maxLen: 4, batch: 2}
	sc := &SeqScorer{Model: m}
	reqs := []Request{
		{Context: []int32{1, 2}, Continuation: []int32{3}},             // positions: 3@2 → -(3.2)
		{Context: []int32{9, 9, 9, 9, 1}, Continuation: []int32{0, 2}}, // 7 tokens → last 5: [9 9 1 0 2]; 0@3, 2@4 → -(0.3) - (2.4)
		{Context: []int32{5}, Continuation: []int32{0}},                // 0@1 → -(0.1), greedy
	}
	got, err := sc.LogLikelihoods(reqs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{LogLik: -3.2}, {LogLik: -2.7}, {LogLik: -0.1, Greedy: true}}
	for i := range want {
		if math.Abs(got[i].LogLik-want[i].LogLik) > sumTolerance || got[i].Greedy != want[i].Greedy {
			t.Errorf("request %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// Longest first, batches of 2.
	if !reflect.DeepEqual(m.calls, [][]int{{5, 3}, {2}}) {
		t.Errorf("batches of sequence lengths %v, want [[5 3] [2]]", m.calls)
	}
	if _, err := sc.LogLikelihoods([]Request{{Context: []int32{1}, Continuation: []int32{1, 2, 3, 4, 5}}}); err == nil {
		t.Error("a continuation longer than the max length: no error")
	}
	if _, err := sc.LogLikelihoods([]Request{{Continuation: []int32{1}}}); err == nil {
		t.Error("empty context: no error")
	}
}
