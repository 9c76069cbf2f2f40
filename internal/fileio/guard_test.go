package fileio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modelFixture makes root/model/{config.json,model.safetensors}, a corpus
// file root/c.jsonl, and symlinks root/link → model and
// root/wlink → model/model.safetensors.
func modelFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	model := filepath.Join(root, "model")
	os.Mkdir(model, 0o755)
	for _, n := range []string{"config.json", "model.safetensors"} {
		os.WriteFile(filepath.Join(model, n), []byte("x"), 0o644)
	}
	os.WriteFile(filepath.Join(root, "c.jsonl"), []byte("{}\n"), 0o644)
	os.Symlink(model, filepath.Join(root, "link"))
	os.Symlink(filepath.Join(model, "model.safetensors"), filepath.Join(root, "wlink"))
	return root
}

func TestCheckOutput(t *testing.T) {
	root := modelFixture(t)
	model := filepath.Join(root, "model")
	j := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	cases := []struct {
		name    string
		out     string
		inputs  []string
		wantErr string // "" = allowed
	}{
		{"weights file of the model", j("model", "model.safetensors"), []string{model}, "inside, the input folder"},
		{"config of the model", j("model", "config.json"), []string{model}, "inside, the input folder"},
		{"the model folder itself", model, []string{model}, "inside, the input folder"},
		{"new file inside the model", j("model", "scores.json"), []string{model}, "inside, the input folder"},
		{"through a symlinked folder", j("link", "model.safetensors"), []string{model}, "inside, the input folder"},
		{"symlink to the weights", j("wlink"), []string{model}, "inside, the input folder"},
		{"dot-dot back into the model", j("runs", "..", "model", "x.json"), []string{model}, "inside, the input folder"},
		{"input file equal", j("c.jsonl"), []string{j("c.jsonl")}, "is the input file"},
		{"input file via dot-dot", j("model", "..", "c.jsonl"), []string{j("c.jsonl")}, "is the input file"},
		{"input inside the output folder", root, []string{model}, "lies inside it"},
		{"parent of an input file", root, []string{j("c.jsonl")}, "lies inside it"},
		{"sibling output", j("runs", "pruned"), []string{model, j("c.jsonl")}, ""},
		{"prefix-named sibling", j("model2"), []string{model}, ""},
		{"empty inputs skipped", j("out.json"), []string{"", ""}, ""},
		{"missing input compared by path", j("new.tokens"), []string{j("new.tokens")}, "is the input file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckOutput(c.out, c.inputs...)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.out) {
				t.Errorf("message %q does not name the output %s", err, c.out)
			}
		})
	}
}

func TestCheckMergeOutput(t *testing.T) {
	root := modelFixture(t)
	scores := filepath.Join(root, "scores.json")
	os.WriteFile(scores, []byte("{}"), 0o644)
	if err := CheckMergeOutput(scores, scores, filepath.Join(root, "model")); err != nil {
		t.Errorf("merging into the input scores file: %v", err)
	}
	if err := CheckMergeOutput(filepath.Join(root, "model", "s.json"), filepath.Join(root, "model")); err == nil {
		t.Error("merge output inside the model folder allowed")
	}
}

func TestCheckResultsFolder(t *testing.T) {
	root := modelFixture(t)
	model := filepath.Join(root, "model")
	if err := CheckResultsFolder(root, model, filepath.Join(root, "c.jsonl")); err != nil {
		t.Errorf("results folder holding its inputs: %v", err)
	}
	if err := CheckResultsFolder(filepath.Join(model, "results"), model); err == nil {
		t.Error("results folder inside the teacher allowed")
	}
}

func TestResolve(t *testing.T) {
	root := modelFixture(t)
	realRoot, _ := filepath.EvalSymlinks(root)
	t.Chdir(root)
	cases := []struct{ in, want string }{
		{"c.jsonl", filepath.Join(realRoot, "c.jsonl")},
		{"link/config.json", filepath.Join(realRoot, "model", "config.json")},
		{"link/missing/deeper.json", filepath.Join(realRoot, "model", "missing", "deeper.json")},
		{"new/../c.jsonl", filepath.Join(realRoot, "c.jsonl")},
		{"./model/./config.json", filepath.Join(realRoot, "model", "config.json")},
	}
	for _, c := range cases {
		got, err := Resolve(c.in)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := Resolve(""); err == nil {
		t.Error("Resolve(\"\"): no error")
	}
}
