package data

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindCheckout(t *testing.T) {
	t.Setenv("GOMINITRON_ROOT", "")
	want, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	got, err := FindCheckout("")
	if err != nil || got != want {
		t.Errorf("FindCheckout from ops/data = %q, %v; want %q", got, err, want)
	}
	if got, _ := FindCheckout("/x/y"); got != "/x/y" {
		t.Errorf("explicit root: got %q", got)
	}
	t.Setenv("GOMINITRON_ROOT", "/env/root")
	if got, _ := FindCheckout(""); got != "/env/root" {
		t.Errorf("GOMINITRON_ROOT: got %q", got)
	}
	t.Setenv("GOMINITRON_ROOT", "")
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n"), 0o644)
	if _, err := FindCheckout(""); err == nil {
		t.Error("want an error outside a gominitron checkout")
	}
}
