package train

import (
	"path/filepath"
	"testing"
)

// TestCommittedRecipesValid loads the committed recipes/teacher-*.json.
func TestCommittedRecipesValid(t *testing.T) {
	files, err := filepath.Glob("../../recipes/teacher-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d recipes, want teacher-cpu and teacher-gpu at least", len(files))
	}
	for _, f := range files {
		r, err := LoadRecipe(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		t.Logf("%s: %s, %d layers × hidden %d, %d updates", f, r.Name, r.Model.NumLayers, r.Model.Hidden, r.Train.Steps)
	}
}
