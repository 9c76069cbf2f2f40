package interactive

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/data"
)

func TestOpenDemoFallbackAndCorpus(t *testing.T) {
	// A checkout with only the fixture (no tokenizer) and no Brown corpus: the
	// fallback, with a BPE trained on the docs stand-in corpus.
	root := t.TempDir()
	fx := filepath.Join(root, FixtureDir)
	copyFiles(t, filepath.Join("../..", FixtureDir), fx, "config.json", "model.safetensors")
	os.MkdirAll(filepath.Join(root, "docs"), 0o755)
	os.WriteFile(filepath.Join(root, "docs", "a.md"), []byte(paragraphs(300)), 0o644)
	os.WriteFile(filepath.Join(root, "docs", "b.png"), []byte{0x89, 'P', 'N', 'G', 0xff}, 0o644) // not read
	t.Setenv("GOMINITRON_DATA", filepath.Join(root, "nodata"))
	t.Setenv(ModelEnv, "")
	d, err := OpenDemo(DemoOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Fallback || d.Tokenizer == nil || d.Tokenizer.VocabSize() > d.Model.Config.VocabSize || len(d.Notes) != 3 {
		t.Fatalf("fallback demo: %+v", d)
	}
	a, _ := d.Sequences(data.Val, 3, 8, 7)
	b, _ := d.Sequences(data.Val, 3, 8, 7)
	c, _ := d.Sequences(data.Train, 3, 8, 7)
	if len(a) != 3 || len(a[0]) != 8 || a[1][3] != b[1][3] || equalRows(a, c) {
		t.Fatalf("sequences not seeded per split: %v %v", a, c)
	}
	for _, row := range append(a, c...) {
		for _, id := range row {
			if int(id) >= d.Model.Config.VocabSize {
				t.Fatalf("id %d outside the fixture's vocabulary", id)
			}
		}
	}

	// A model with a tokenizer and no Brown corpus: the docs stand-in is packed once.
	tokDir := filepath.Join(root, "tokmodel")
	copyFiles(t, fx, tokDir, "config.json", "model.safetensors")
	copyFiles(t, "../../testdata/hf/dev-tokenizer-llama3style", tokDir, "tokenizer.json")
	d, err = OpenDemo(DemoOptions{Root: root, ModelDir: tokDir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Fallback || d.Tokenizer == nil || len(d.Notes) != 1 || d.Notes[0] != "note: "+demoCorpusNote {
		t.Fatalf("demo with tokenizer: %+v", d)
	}
	st, err := os.Stat(d.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{data.Train, data.Val} {
		seqs, err := d.Sequences(split, 2, 8, 1)
		if err != nil || len(seqs) != 2 || len(seqs[0]) != 8 {
			t.Fatalf("%s: %v %v", split, seqs, err)
		}
	}
	if _, err := d.Encode("The jury said."); err != nil {
		t.Fatal(err)
	}
	d2, err := OpenDemo(DemoOptions{Root: root, ModelDir: tokDir})
	if err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(d2.TokenFile); !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("token file packed again although fresh")
	}
}

func copyFiles(t *testing.T, from, to string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(from, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func paragraphs(n int) string {
	s := ""
	for i := range n {
		s += fmt.Sprintf("Paragraph %d: the committee said it would review the reports about the city and the jury.\n\n", i)
	}
	return s
}

func equalRows(a, b [][]int32) bool {
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func TestDemoImportanceCached(t *testing.T) {
	root := t.TempDir()
	copyFiles(t, filepath.Join("../..", FixtureDir), filepath.Join(root, FixtureDir), "config.json", "model.safetensors")
	os.MkdirAll(filepath.Join(root, "docs"), 0o755)
	os.WriteFile(filepath.Join(root, "docs", "a.md"), []byte(paragraphs(300)), 0o644)
	t.Setenv("GOMINITRON_DATA", filepath.Join(root, "nodata"))
	t.Setenv(ModelEnv, "")
	d, err := OpenDemo(DemoOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	b, err := backend.New()
	if err != nil {
		t.Fatal(err)
	}
	opts := ImportanceOptions{Samples: 4, SeqLen: 16, BlockSize: 1, Parts: 2, BatchSize: 2}
	imp, path, err := d.Importance(b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.DropOneLMLoss) != 2 || len(imp.BlockLMLoss) != 2 || imp.RankStability == nil || imp.LMLoss <= 0 {
		t.Fatalf("scores: %+v", imp)
	}
	st, _ := os.Stat(path)
	opts.Progress = func(string, int, int) { t.Fatal("recomputed although cached") }
	imp2, path2, err := d.Importance(b, opts)
	if err != nil || path2 != path || imp2.LMLoss != imp.LMLoss {
		t.Fatalf("cached: %v %s", err, path2)
	}
	if st2, _ := os.Stat(path); !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("scores file rewritten")
	}
}

func TestSweepBlockSize(t *testing.T) {
	for _, tc := range []struct{ layers, want int }{{2, 1}, {3, 2}, {4, 2}, {8, 2}, {12, 3}, {32, 8}} {
		if got := SweepBlockSize(tc.layers); got != tc.want {
			t.Errorf("SweepBlockSize(%d) = %d, want %d", tc.layers, got, tc.want)
		}
	}
}
