package reproduce

import (
	"os"
	"strings"
	"testing"
)

// TestResultsDocBlocks checks docs/results.md's generated blocks: one per
// experiment, each parseable, and untouched without stored results.
func TestResultsDocBlocks(t *testing.T) {
	doc, err := os.ReadFile("../docs/results.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Experiments {
		if !strings.Contains(string(doc), "<!-- reproduce:table "+name+" -->") {
			t.Errorf("docs/results.md has no generated block for %s", name)
		}
	}
	got, err := UpdateDoc(doc, nil)
	if err != nil || string(got) != string(doc) {
		t.Errorf("UpdateDoc without results changed docs/results.md (err %v)", err)
	}
}
