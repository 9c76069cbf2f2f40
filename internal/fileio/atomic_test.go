package fileio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileCreatesParents(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		name string
		path string
	}{
		{"existing folder", filepath.Join(root, "a.json")},
		{"one missing parent", filepath.Join(root, "runs", "a.json")},
		{"three missing parents", filepath.Join(root, "out", "notebooks", "x", "plot.png")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := WriteFile(c.path, []byte("hello")); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(c.path)
			if err != nil || string(got) != "hello" {
				t.Fatalf("read back %q, %v; want hello", got, err)
			}
			st, _ := os.Stat(c.path)
			if st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644", st.Mode().Perm())
			}
			assertNoTemps(t, filepath.Dir(c.path))
		})
	}
}

// assertNoTemps fails when a staging leftover stands in dir.
func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if IsTemp(e.Name()) {
			t.Errorf("leftover %s in %s", e.Name(), dir)
		}
	}
}

func TestWriteStreamFailureKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scores.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := WriteStream(path, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want the fill error naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("content %q after a failed write, want old", got)
	}
	assertNoTemps(t, dir)
}

func TestWriteFileRefusesFolder(t *testing.T) {
	dir := t.TempDir()
	err := WriteFile(dir, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "folder stands there") {
		t.Fatalf("WriteFile onto a folder: %v, want a refusal", err)
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "v.json")
	if err := WriteJSON(path, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "{\n  \"a\": 1\n}\n" {
		t.Errorf("got %q", got)
	}
	if err := WriteJSON(path, func() {}); err == nil {
		t.Error("encoding a func: no error")
	}
}

func TestStageDir(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		name    string
		dir     string
		prepare func(dir string)
		wantErr string
	}{
		{"missing parents", filepath.Join(root, "runs", "deep", "pruned"), nil, ""},
		{"empty folder stands there", filepath.Join(root, "empty"), func(d string) { os.Mkdir(d, 0o755) }, ""},
		{"non-empty folder stands there", filepath.Join(root, "full"), func(d string) {
			os.Mkdir(d, 0o755)
			os.WriteFile(filepath.Join(d, "keep"), []byte("k"), 0o644)
		}, "writing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.prepare != nil {
				c.prepare(c.dir)
			}
			stage, commit, cleanup, err := StageDir(c.dir)
			if err != nil {
				t.Fatal(err)
			}
			defer cleanup()
			if filepath.Dir(filepath.Dir(stage)) != filepath.Dir(c.dir) {
				t.Errorf("stage %s not beside %s", stage, c.dir)
			}
			if err := os.WriteFile(filepath.Join(stage, "config.json"), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			err = commit()
			cleanup()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("commit: %v, want %q", err, c.wantErr)
				}
				if _, err := os.Stat(filepath.Join(c.dir, "keep")); err != nil {
					t.Errorf("the existing content was touched: %v", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(c.dir, "config.json")); err != nil {
					t.Errorf("committed folder lacks config.json: %v", err)
				}
			}
			assertNoTemps(t, filepath.Dir(c.dir))
		})
	}
}

func TestCleanTemps(t *testing.T) {
	dir := t.TempDir()
	leftovers := []string{".out.tmp-123", ".out.tmp-abc"}
	keep := []string{"out", ".other.tmp-1", "out.tmp-1"}
	for _, n := range append(append([]string{}, leftovers...), keep...) {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	removed, err := CleanTemps(dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(removed, ",") != strings.Join(leftovers, ",") {
		t.Errorf("removed %v, want %v", removed, leftovers)
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed: %v", n, err)
		}
	}
}

func TestIsTemp(t *testing.T) {
	cases := []struct {
		name string
		want bool
	}{
		{".model.safetensors.tmp-123", true},
		{".tmp-step-00000010-9", true},
		{".split.tmp-1", true},
		{"step-00000010", false},
		{"model.tmp-1", false},
		{".gominitron.lock", false},
	}
	for _, c := range cases {
		if got := IsTemp(c.name); got != c.want {
			t.Errorf("IsTemp(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}
