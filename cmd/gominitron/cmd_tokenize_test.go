package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tokCaptureStdout runs fn and returns what it printed on stdout.
func tokCaptureStdout(t *testing.T, fn func() error) []byte {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	runErr := fn()
	w.Close()
	os.Stdout = old
	out := <-done
	if runErr != nil {
		t.Fatal(runErr)
	}
	return out
}

const tokFixture = "../../testdata/hf/dev-tokenizer-llama3style"

func TestTokenizeCommand(t *testing.T) {
	var enc struct{ IDs []int32 }
	out := tokCaptureStdout(t, func() error { return runTokenize([]string{"--tokenizer", tokFixture, "--text", "a"}) })
	if err := json.Unmarshal(out, &enc); err != nil || !slices.Equal(enc.IDs, []int32{0, 66}) {
		t.Fatalf("encode: %s %v", out, err)
	}
	out = tokCaptureStdout(t, func() error {
		return runTokenize([]string{"--tokenizer", tokFixture, "--no-special", "--text", "a"})
	})
	if err := json.Unmarshal(out, &enc); err != nil || !slices.Equal(enc.IDs, []int32{66}) {
		t.Fatalf("encode --no-special: %s", out)
	}
	var dec struct{ Text string }
	out = tokCaptureStdout(t, func() error { return runTokenize([]string{"--tokenizer", tokFixture, "--decode", "0,66"}) })
	if err := json.Unmarshal(out, &dec); err != nil || dec.Text != "<|begin_of_text|>a" {
		t.Fatalf("decode: %s", out)
	}
	if err := runTokenize([]string{"--tokenizer", tokFixture, "--decode", "1,x"}); err == nil || !strings.Contains(err.Error(), `item 2 "x"`) {
		t.Fatalf("bad id: %v", err)
	}
	if err := runTokenize([]string{"--tokenizer", tokFixture, "--decode", "99999"}); err == nil || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Fatalf("id outside vocab: %v", err)
	}
}

func TestTokenizerTrainAndPackCommands(t *testing.T) {
	dir := t.TempDir()
	sample := "../../testdata/corpus/sample.jsonl"
	tokDir := filepath.Join(dir, "tok")
	tokCaptureStdout(t, func() error {
		return runTokenizerTrain([]string{"--vocab", "300", "--out", tokDir, "--field", "content", sample})
	})
	tokens := filepath.Join(dir, "s.tokens")
	out := tokCaptureStdout(t, func() error {
		return runDataPack([]string{"--tokenizer", tokDir, "--out", tokens, "--field", "content", "--val", "0.2", sample})
	})
	if !strings.Contains(string(out), `"documents":5`) {
		t.Fatalf("pack: %s", out)
	}
	out = tokCaptureStdout(t, func() error { return runDataInfo([]string{tokens}) })
	if !strings.Contains(string(out), `"vocab_size":300`) {
		t.Fatalf("info: %s", out)
	}
	if err := runDataFetch([]string{"wiki"}); err == nil || !strings.Contains(err.Error(), `unknown corpus "wiki"`) {
		t.Fatalf("fetch: %v", err)
	}
}
