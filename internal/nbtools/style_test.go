package nbtools

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// codeCells returns the sources of a notebook's code cells.
func codeCells(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb ipynb
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			out = append(out, multiline(c.Source))
		}
	}
	return out
}

// body returns what follows a cell's %% line (main's body), trimmed.
func body(cell string) string {
	if _, after, ok := strings.Cut(cell, "%%\n"); ok {
		return strings.TrimSpace(after)
	}
	return ""
}

// paperShorthand is the "P1 Table 13" style that names no paper.
var paperShorthand = regexp.MustCompile(`\bP[12]\b`)

// TestNotebooksReadAsLessons checks the workshop style of the committed
// notebooks: 00–05 start with the one-line set-up, 10–22 are one report
// call, no cell carries error boilerplate (kernel.Must/Check/Plot report
// errors as a readable cell error), and papers are named by their authors
// (00 links them), never as "P1".
func TestNotebooksReadAsLessons(t *testing.T) {
	paths, err := filepath.Glob("../../notebooks/[012]*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found (%v)", err)
	}
	for _, p := range paths {
		name := filepath.Base(p)
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := paperShorthand.Find(raw); m != nil {
			t.Errorf("%s: says %q; name the paper (Muralidharan et al. 2024 / Sreenivas et al. 2024)", name, m)
		}
		cells := codeCells(t, p)
		if len(cells) == 0 {
			t.Errorf("%s: no code cells", name)
			continue
		}
		for i, c := range cells {
			if strings.Contains(c, "panic(") {
				t.Errorf("%s: code cell %d panics; use kernel.Must / kernel.Check / kernel.Plot", name, i)
			}
		}
		switch {
		case strings.HasPrefix(name, "0"):
			if got := body(cells[0]); got != "kernel.Setup()" {
				t.Errorf("%s: first code cell runs %q, want the one-line set-up kernel.Setup()", name, got)
			}
		case strings.HasPrefix(name, "1"), strings.HasPrefix(name, "2"):
			got := body(cells[len(cells)-1])
			if !strings.HasPrefix(got, "kernel.MustBanner()\nkernel.Reproduce(\"") || strings.Count(got, "\n") != 1 {
				t.Errorf("%s: last code cell runs %q, want kernel.MustBanner() and one kernel.Reproduce call", name, got)
			}
		}
	}
}
