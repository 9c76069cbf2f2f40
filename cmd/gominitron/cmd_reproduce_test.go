package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/reproduce"
)

// TestReproduceAndSearchCommands runs one experiment and a search at smoke
// scale on a random tiny teacher and checks the files they write.
func TestReproduceAndSearchCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny students (seconds)")
	}
	dir := t.TempDir()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	teacher := filepath.Join(dir, "teacher")
	if err := reproduce.BuildSmokeTeacher(teacher, filepath.Join(root, reproduce.SmokeTokenizerDir), 3); err != nil {
		t.Fatal(err)
	}
	corpus := filepath.Join(root, "reproduce", "testdata", "corpus.jsonl")
	common := []string{"--scale", "smoke", "--corpus", corpus, "--val-fraction", "0.25"}
	out := filepath.Join(dir, "repro")
	if err := runReproduce(append([]string{reproduce.ExpKDvsCE, "--teacher", teacher, "--out", out}, common...)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{reproduce.TableFile, reproduce.ResultFile, "curves.png"} {
		if _, err := os.Stat(filepath.Join(out, reproduce.ExpKDvsCE, f)); err != nil {
			t.Error(err)
		}
	}
	sout := filepath.Join(dir, "search")
	if err := runSearch(append([]string{"--model", teacher, "--params", "60000", "--steps", "2", "--eval-every", "1", "--candidates", "2", "--out", sout}, common...)); err != nil {
		t.Fatal(err)
	}
	table, err := os.ReadFile(filepath.Join(sout, reproduce.TableFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(table), "Architecture search") {
		t.Errorf("search table:\n%s", table)
	}
	for _, f := range []string{"curves.png", "params-vs-loss.png"} {
		if _, err := os.Stat(filepath.Join(sout, f)); err != nil {
			t.Error(err)
		}
	}
	if err := runReproduce([]string{"nope", "--out", out}); err == nil || !strings.Contains(err.Error(), "unknown experiment") {
		t.Errorf("unknown experiment: %v", err)
	}
	if err := runReproduce([]string{reproduce.ExpKDvsCE}); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("missing --out: %v", err)
	}
}
