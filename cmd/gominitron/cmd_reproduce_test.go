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
	// reproduce report: the stored result alone gives the table again, and the
	// document's generated block.
	regen := filepath.Join(dir, "regen")
	doc := filepath.Join(dir, "results.md")
	if err := os.WriteFile(doc, []byte("prose\n<!-- reproduce:table kd-vs-ce -->\nold\n<!-- /reproduce:table -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runReproduce([]string{"report", "--from", out, "--out", regen, "--doc", doc}); err != nil {
		t.Fatal(err)
	}
	stored, _ := os.ReadFile(filepath.Join(out, reproduce.ExpKDvsCE, reproduce.TableFile))
	again, err := os.ReadFile(filepath.Join(regen, reproduce.ExpKDvsCE, reproduce.TableFile))
	if err != nil || string(again) != string(stored) {
		t.Errorf("reproduce report table (%v):\n%s\nwant\n%s", err, again, stored)
	}
	if d, _ := os.ReadFile(doc); strings.Contains(string(d), "old") || !strings.Contains(string(d), "CE (next-token LM loss)") {
		t.Errorf("reproduce report --doc:\n%s", d)
	}
	if err := runReproduce([]string{"report"}); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("report without --from: %v", err)
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
