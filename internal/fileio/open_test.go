package fileio

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckRegular(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "config.json")
	os.WriteFile(regular, []byte("{}"), 0o644)
	folder := filepath.Join(dir, "model.safetensors")
	os.Mkdir(folder, 0o755)
	fifo := filepath.Join(dir, "tokenizer.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	devLink := filepath.Join(dir, "merges.txt")
	os.Symlink("/dev/zero", devLink)
	cases := []struct {
		name, path, wantErr string
	}{
		{"regular", regular, ""},
		{"folder", folder, "is a folder, not a regular file"},
		{"fifo", fifo, "is a named pipe (FIFO), not a regular file"},
		{"symlink to a device", devLink, "is a character device, not a regular file"},
		{"missing", filepath.Join(dir, "none"), "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CheckRegular(c.path)
			checkErr(t, err, c.wantErr, c.path)
			f, _, err := OpenRegular(c.path) // never blocks on the FIFO
			if f != nil {
				f.Close()
			}
			checkErr(t, err, c.wantErr, c.path)
		})
	}
}

func checkErr(t *testing.T, err error, want, path string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want %q naming %s", err, want, path)
	}
}

func TestReadRegularCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	os.WriteFile(path, make([]byte, 100), 0o644)
	const capBytes = 64 // smaller than the file
	if _, err := ReadRegular(path, capBytes); err == nil || !strings.Contains(err.Error(), "over the 64-byte limit") {
		t.Fatalf("error %v, want the size limit", err)
	}
	data, err := ReadRegular(path, 100)
	if err != nil || len(data) != 100 {
		t.Fatalf("at the limit: %d bytes, %v", len(data), err)
	}
	if data, err := ReadRegular(path, 0); err != nil || len(data) != 100 {
		t.Fatalf("no cap: %d bytes, %v", len(data), err)
	}
}

func TestReadSideFile(t *testing.T) {
	root := t.TempDir()
	model := filepath.Join(root, "model")
	os.Mkdir(model, 0o755)
	secret := filepath.Join(root, "secret")
	os.WriteFile(secret, []byte("password"), 0o600)
	os.WriteFile(filepath.Join(model, "tokenizer.json"), []byte("{}"), 0o644)
	os.Mkdir(filepath.Join(model, "sub"), 0o755)
	os.WriteFile(filepath.Join(model, "sub", "real.txt"), []byte("inside"), 0o644)
	links := map[string]string{
		"merges.txt":              secret,
		"generation_config.json":  "/dev/zero",
		"vocab.json":              "/etc/passwd",
		"tokenizer_config.json":   filepath.Join("sub", "real.txt"), // relative, inside
		"special_tokens_map.json": filepath.Join("..", "secret"),
	}
	for name, target := range links {
		os.Symlink(target, filepath.Join(model, name))
	}
	cases := []struct {
		name, wantErr string
		wantOK        bool
		want          string
	}{
		{"tokenizer.json", "", true, "{}"},
		{"tokenizer_config.json", "", true, "inside"},
		{"absent.json", "", false, ""},
		{"merges.txt", "outside the folder", false, ""},
		{"generation_config.json", "outside the folder", false, ""},
		{"vocab.json", "outside the folder", false, ""},
		{"special_tokens_map.json", "outside the folder", false, ""},
		{"sub", "is a folder", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, ok, err := ReadSideFile(model, c.name)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), c.name) {
					t.Fatalf("error %v, want %q naming %s", err, c.wantErr, c.name)
				}
				return
			}
			if err != nil || ok != c.wantOK || string(data) != c.want {
				t.Fatalf("got %q ok=%v err=%v, want %q ok=%v", data, ok, err, c.want, c.wantOK)
			}
		})
	}
	// CopySideFile writes nothing for a refused file.
	dst := filepath.Join(root, "out", "merges.txt")
	if _, err := CopySideFile(model, "merges.txt", dst); err == nil {
		t.Fatal("copying a side file linked outside the model: no error")
	}
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s written: %v", dst, err)
	}
	if copied, err := CopySideFile(model, "tokenizer.json", filepath.Join(root, "out", "tokenizer.json")); !copied || err != nil {
		t.Errorf("copying a regular side file: %v %v", copied, err)
	}
}
