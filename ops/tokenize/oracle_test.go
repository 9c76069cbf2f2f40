package tokenize

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// naiveEncode is an independent, slow reference for byte-level BPE
// tokenizers like the fixture: regexp2 for the Split regex, then repeatedly
// merge the adjacent pair with the lowest merge rank (leftmost on ties).
func naiveEncode(t testing.TB, tj map[string]any, text string) []int32 {
	model := tj["model"].(map[string]any)
	vocab := map[string]int32{}
	for k, v := range model["vocab"].(map[string]any) {
		vocab[k] = int32(v.(float64))
	}
	rank := map[[2]string]int{}
	for i, m := range model["merges"].([]any) {
		p := m.([]any)
		key := [2]string{p[0].(string), p[1].(string)}
		if _, ok := rank[key]; !ok {
			rank[key] = i
		}
	}
	pre := tj["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)
	re, err := newRegexMatcher(pre["pattern"].(map[string]any)["Regex"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var ids []int32
	for _, sp := range re.findAll(text) {
		word := byteLevelEncode(text[sp[0]:sp[1]])
		var syms []string
		for _, r := range word {
			syms = append(syms, string(r))
		}
		for {
			best, bestRank := -1, 1<<30
			for i := 0; i+1 < len(syms); i++ {
				if r, ok := rank[[2]string{syms[i], syms[i+1]}]; ok && r < bestRank {
					best, bestRank = i, r
				}
			}
			if best < 0 {
				break
			}
			syms = append(syms[:best], append([]string{syms[best] + syms[best+1]}, syms[best+2:]...)...)
		}
		for _, s := range syms {
			ids = append(ids, vocab[s])
		}
	}
	return ids
}

// oracleTexts: the sample corpus, random strings, and (when fetched) 1,000
// paragraphs of Brown from $GOMINITRON_DATA or ../../data.
func oracleTexts(t *testing.T) []string {
	texts := strings.Split(sampleText(t), "\n")
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		texts = append(texts, randomText(rng, 1+rng.IntN(40)))
	}
	dir := os.Getenv("GOMINITRON_DATA")
	if dir == "" {
		dir = "../../data"
	}
	f, err := os.Open(filepath.Join(dir, "brown", "brown.jsonl"))
	if err != nil {
		t.Logf("Brown not fetched (%v): oracle runs on the sample and random text only", err)
		return texts
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var paras []string
	for sc.Scan() {
		var d struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		paras = append(paras, strings.Split(d.Text, "\n\n")...)
	}
	step := max(1, len(paras)/1000)
	for i := 0; i < len(paras); i += step {
		texts = append(texts, paras[i])
	}
	t.Logf("oracle on %d texts including %d Brown paragraphs", len(texts), len(paras)/step)
	return texts
}

func TestEncoderMatchesNaiveOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("slow oracle")
	}
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tj map[string]any
	if err := json.Unmarshal(raw, &tj); err != nil {
		t.Fatal(err)
	}
	tok, err := ParseJSON(raw, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	// Also a tokenizer trained here, written and re-read as JSON.
	trained := trainSample(t, 600)
	var tj2 map[string]any
	if err := json.Unmarshal(trained.JSON(), &tj2); err != nil {
		t.Fatal(err)
	}
	tok2, err := ParseJSON(trained.JSON(), "trained")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range oracleTexts(t) {
		for k, pair := range []struct {
			tok *Tokenizer
			tj  map[string]any
		}{{tok, tj}, {tok2, tj2}} {
			got := pair.tok.Encode(text, false)
			if want := naiveEncode(t, pair.tj, text); !slices.Equal(got, want) {
				t.Fatalf("tokenizer %d, text %q:\n got %v\nwant %v", k, text, got, want)
			}
			if back, err := pair.tok.Decode(got, false); err != nil || back != strings.ToValidUTF8(text, "\uFFFD") {
				t.Fatalf("tokenizer %d: round trip of %q gave %q (%v)", k, text, back, err)
			}
		}
	}
}

// TestTrainSegmentationOnDocs trains vocab 4096 on the project's own
// Markdown (README.md and docs/*.md: a few hundred KB of English prose, code
// and tables, always in the checkout) and checks that the encoder reproduces
// the trainer's segmentation of every one of its distinct words — the check
// TestTrainReloadRoundTrip makes on the tiny sample corpus, on a corpus large
// enough for thousands of merges.
func TestTrainSegmentationOnDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md found (%v)", err)
	}
	tr, err := NewTrainer(TrainOptions{VocabSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append(files, "../../README.md") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, para := range strings.Split(string(data), "\n\n") {
			tr.Add(para)
		}
	}
	res, err := tr.Train()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseJSON(res.JSON(), "docs-4096")
	if err != nil {
		t.Fatal(err)
	}
	for word, want := range res.Segmentation {
		raw := string(byteLevelDecodeToken(nil, word))
		if got := tok.Encode(raw, false); !slices.Equal(got, want) {
			t.Fatalf("word %q: encoder %v, trainer %v", raw, got, want)
		}
	}
	t.Logf("%d words, %d merges: encoder = trainer segmentation", len(res.Segmentation), len(res.Merges))
}
