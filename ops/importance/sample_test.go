package importance

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// testCorpus writes a small text corpus (one document per file).
func testCorpus(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "corpus")
	os.MkdirAll(dir, 0o755)
	docs := []string{
		"The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise and thanks of the City of Atlanta for the manner in which the election was conducted.",
		"It recommended that Fulton legislators act to have these laws studied and revised to the end of modernizing and improving them. The grand jury commented on a number of other topics, among them the Atlanta and Fulton County purchasing departments.",
		"Merger proposed. However, the jury said it believes these two offices should be combined to achieve greater efficiency and reduce the cost of administration.",
	}
	for i, d := range docs {
		os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".txt"), []byte(d), 0o644)
	}
	return dir
}

var testTokenizerDir = filepath.Join("..", "..", "testdata", "hf", "dev-tokenizer-llama3style")

func TestSampleCalibration(t *testing.T) {
	t.Setenv("GOMINITRON_DATA", t.TempDir()) // the packed-corpus cache
	corpus := testCorpus(t)
	cfg := &llm.Config{VocabSize: 2048, MaxPositions: 64}
	opts := SampleOptions{Samples: 5, SeqLen: 16, Seed: 7, TokenizerPath: testTokenizerDir}
	c, err := SampleCalibration(corpus, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IDs) != 5 || c.SeqLen() != 16 || c.Lengths != nil {
		t.Fatalf("got %d × %d", len(c.IDs), c.SeqLen())
	}
	if err := c.Validate(cfg.VocabSize); err != nil {
		t.Error(err)
	}
	again, _ := SampleCalibration(corpus, cfg, opts)
	if !reflect.DeepEqual(c.IDs, again.IDs) {
		t.Error("same seed gave different samples")
	}
	other, _ := SampleCalibration(corpus, cfg, SampleOptions{Samples: 5, SeqLen: 16, Seed: 8, TokenizerPath: testTokenizerDir})
	if reflect.DeepEqual(c.IDs, other.IDs) {
		t.Error("different seeds gave the same samples")
	}

	// A token file packed beforehand gives the same windows.
	tok, err := tokenize.Load(testTokenizerDir)
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(t.TempDir(), "corpus.tokens")
	if _, err := data.Pack(data.PackOptions{Sources: []data.Source{{Path: corpus}}, Tokenizer: tok, Out: tokens, EOS: -1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	fromTokens, err := SampleCalibration(tokens, cfg, SampleOptions{Samples: 5, SeqLen: 16, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.IDs, fromTokens.IDs) {
		t.Error("token file and corpus gave different samples")
	}

	for _, tc := range []struct {
		name string
		cfg  *llm.Config
		opts SampleOptions
		want string
	}{
		{"context", cfg, SampleOptions{Samples: 2, SeqLen: 65, TokenizerPath: testTokenizerDir}, "context"},
		{"vocab", &llm.Config{VocabSize: 100}, SampleOptions{Samples: 2, SeqLen: 8, TokenizerPath: testTokenizerDir}, "vocabulary"},
		{"no tokenizer", cfg, SampleOptions{Samples: 2, SeqLen: 8}, "tokenizer"},
		{"samples", cfg, SampleOptions{Samples: 0, SeqLen: 8, TokenizerPath: testTokenizerDir}, "samples"},
		{"too long", &llm.Config{VocabSize: 2048}, SampleOptions{Samples: 1, SeqLen: 5000, TokenizerPath: testTokenizerDir}, "fewer than one"},
	} {
		if _, err := SampleCalibration(corpus, tc.cfg, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
