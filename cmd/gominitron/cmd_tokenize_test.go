package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const tokFixture = "../../testdata/hf/dev-tokenizer-llama3style"

func TestTokenizeCommand(t *testing.T) {
	var enc struct{ IDs []int32 }
	out := captureStdout(t, func() error { return runTokenize([]string{"--tokenizer", tokFixture, "--text", "a"}) })
	if err := json.Unmarshal(out, &enc); err != nil || !slices.Equal(enc.IDs, []int32{0, 66}) {
		t.Fatalf("encode: %s %v", out, err)
	}
	out = captureStdout(t, func() error {
		return runTokenize([]string{"--tokenizer", tokFixture, "--no-special", "--text", "a"})
	})
	if err := json.Unmarshal(out, &enc); err != nil || !slices.Equal(enc.IDs, []int32{66}) {
		t.Fatalf("encode --no-special: %s", out)
	}
	var dec struct{ Text string }
	out = captureStdout(t, func() error { return runTokenize([]string{"--tokenizer", tokFixture, "--decode", "0,66"}) })
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
	captureStdout(t, func() error {
		return runTokenizerTrain([]string{"--vocab", "300", "--out", tokDir, "--field", "content", sample})
	})
	tokens := filepath.Join(dir, "s.tokens")
	out := captureStdout(t, func() error {
		return runDataPack([]string{"--tokenizer", tokDir, "--out", tokens, "--field", "content", "--val", "0.2", sample})
	})
	if !strings.Contains(string(out), `"documents":5`) {
		t.Fatalf("pack: %s", out)
	}
	out = captureStdout(t, func() error { return runDataInfo([]string{tokens}) })
	if !strings.Contains(string(out), `"vocab_size":300`) {
		t.Fatalf("info: %s", out)
	}
	if err := runDataFetch([]string{"wiki"}); err == nil || !strings.Contains(err.Error(), `unknown corpus "wiki"`) {
		t.Fatalf("fetch: %v", err)
	}
}
