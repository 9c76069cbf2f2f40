package evaluate

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitSentences(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"One two. Three four!  Five?", []string{"One two.", "Three four!", "Five?"}},
		{"He said \"stop.\" Then   he\nleft.", []string{"He said \"stop.\"", "Then he left."}},
		{"A heading\n\nBody text here. Pi is 3.14 exactly.", []string{"A heading", "Body text here.", "Pi is 3.14 exactly."}},
		{"", nil},
	}
	for _, c := range cases {
		if got := SplitSentences(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitSentences(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func corpusDocs(n int) []string {
	var docs []string
	for d := range n {
		var b strings.Builder
		for s := range 6 {
			fmt.Fprintf(&b, "Document %d has sentence number %d here. ", d, s)
		}
		docs = append(docs, b.String())
	}
	return docs
}

func TestBuildNextSentenceTask(t *testing.T) {
	docs := corpusDocs(5)
	opts := NextSentenceOptions{N: 8, Seed: 42}
	a, err := BuildNextSentenceTask(docs, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BuildNextSentenceTask(docs, opts)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different items")
	}
	c, _ := BuildNextSentenceTask(docs, NextSentenceOptions{N: 8, Seed: 43})
	if reflect.DeepEqual(a, c) {
		t.Error("another seed, same items")
	}
	if len(a) != 8 {
		t.Fatalf("%d items, want 8", len(a))
	}
	labels := map[int]bool{}
	for i, it := range a {
		if len(it.Choices) != 4 {
			t.Fatalf("item %d: %d choices", i, len(it.Choices))
		}
		var d, s int
		if _, err := fmt.Sscanf(it.Choices[it.Label], "Document %d has sentence number %d here.", &d, &s); err != nil {
			t.Fatalf("item %d: label points at %q", i, it.Choices[it.Label])
		}
		want := fmt.Sprintf("Document %d has sentence number %d here. Document %d has sentence number %d here. Document %d has sentence number %d here.", d, s-3, d, s-2, d, s-1)
		if it.Context != want {
			t.Errorf("item %d: passage %q, want %q", i, it.Context, want)
		}
		for j, ch := range it.Choices {
			if j != it.Label && strings.HasPrefix(ch, fmt.Sprintf("Document %d ", d)) {
				t.Errorf("item %d: distractor %q from the same document", i, ch)
			}
		}
		labels[it.Label] = true
	}
	if len(labels) < 2 {
		t.Errorf("the true sentence is always at position %v", labels)
	}
	// Round trip through the generic reader.
	path := filepath.Join(t.TempDir(), "next.jsonl")
	if err := WriteMCItems(path, a); err != nil {
		t.Fatal(err)
	}
	read, err := ReadTask(path, FormatMC)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range read {
		if d.Text != a[i].Context || d.Gold != a[i].Label || !reflect.DeepEqual(d.Choices, a[i].Choices) {
			t.Errorf("item %d did not round-trip: %+v vs %+v", i, d, a[i])
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	// Errors.
	if _, err := BuildNextSentenceTask([]string{"Too short."}, opts); err == nil {
		t.Error("a corpus without eligible passages: no error")
	}
	if _, err := BuildNextSentenceTask(corpusDocs(1), opts); err == nil {
		t.Error("a single document (no distractor source): no error")
	}
}
