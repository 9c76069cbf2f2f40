package data

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCorpusTokenFileCachesAndPassesTokenFiles(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "sample.jsonl")
	src, err := os.ReadFile(sampleJSONL)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(corpus, src, 0o644); err != nil {
		t.Fatal(err)
	}
	o := CorpusOptions{TokenizerPath: fixtureTokenizer, Field: "content", ValFraction: 0.3, Seed: 7, CacheDir: filepath.Join(dir, "cache")}
	first, err := CorpusTokenFile([]string{corpus}, o)
	if err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(first)
	again, err := CorpusTokenFile([]string{corpus}, o)
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(again)
	if again != first || !st2.ModTime().Equal(st1.ModTime()) {
		t.Fatalf("second call repacked: %s vs %s", again, first)
	}
	// A token file is returned as-is.
	if same, err := CorpusTokenFile([]string{first}, CorpusOptions{}); err != nil || same != first {
		t.Fatalf("token file: got %q, %v", same, err)
	}
	// Another split seed, or a changed corpus, is another cache entry.
	o2 := o
	o2.Seed = 8
	if other, err := CorpusTokenFile([]string{corpus}, o2); err != nil || other == first {
		t.Fatalf("seed 8: got %q, %v", other, err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(corpus, later, later); err != nil {
		t.Fatal(err)
	}
	if other, err := CorpusTokenFile([]string{corpus}, o); err != nil || other == first {
		t.Fatalf("touched corpus: got %q, %v", other, err)
	}
	tf, err := OpenCorpus(corpus, o)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	if tf.Header.ValFrac != 0.3 || tf.Header.Seed != 7 {
		t.Fatalf("header %+v", tf.Header)
	}
	if n, _ := tf.SplitLen(Val); n == 0 {
		t.Fatal("empty val split")
	}
	// Text without a tokenizer is an error naming the corpus.
	if _, err := CorpusTokenFile([]string{corpus}, CorpusOptions{CacheDir: o.CacheDir}); err == nil {
		t.Fatal("no tokenizer: want an error")
	}
}
