package fileio

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// TempInfix marks the temporary files and folders this package stages
// beside a destination: "." + base + TempInfix + random. A leftover of a
// killed run carries it, so IsTemp recognises it and never takes it for an
// output or a checkpoint.
const TempInfix = ".tmp-"

// IsTemp reports whether name (a base name) is a staging leftover written
// by this package (a hidden name containing TempInfix).
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, TempInfix)
}

// MkdirParents creates the missing parent folders of path (0o755).
func MkdirParents(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the folder of %s: %w", path, err)
	}
	return nil
}

// WriteFile writes data to path atomically: through a temporary file in the
// same folder (created with its missing parents), synced and renamed over
// path, so a crash never leaves a half-written file there. The file gets
// mode 0o644. A folder standing at path is refused.
func WriteFile(path string, data []byte) error {
	return WriteStream(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteJSON writes v as indented JSON plus a newline to path (WriteFile).
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("writing %s: encoding JSON: %w", path, err)
	}
	return WriteFile(path, append(data, '\n'))
}

// WriteStream writes a file through fill, buffered, into a temporary file
// beside path, then syncs and renames it over path (see WriteFile). When
// fill fails nothing is left behind and path is untouched.
func WriteStream(path string, fill func(w io.Writer) error) (err error) {
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		return fmt.Errorf("writing %s: a folder stands there; give a file name", path)
	}
	if err := MkdirParents(path); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+TempInfix+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err = fill(w); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// StageDir prepares an atomic folder output: it creates the missing parents
// of dir and an empty staging folder beside dir (same filesystem, so the
// final rename cannot fail with "invalid cross-device link"). The caller
// fills stage, then calls commit to move it to dir (which must then be
// absent or an empty folder), and always calls cleanup (a no-op after a
// successful commit).
func StageDir(dir string) (stage string, commit func() error, cleanup func(), err error) {
	dir = filepath.Clean(dir)
	if err := MkdirParents(dir); err != nil {
		return "", nil, nil, err
	}
	holder, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+TempInfix+"*")
	if err != nil {
		return "", nil, nil, fmt.Errorf("staging %s: %w", dir, err)
	}
	stage = filepath.Join(holder, filepath.Base(dir))
	if err := os.Mkdir(stage, 0o755); err != nil {
		os.RemoveAll(holder)
		return "", nil, nil, fmt.Errorf("staging %s: %w", dir, err)
	}
	cleanup = func() { os.RemoveAll(holder) }
	commit = func() error {
		if err := os.Remove(dir); err != nil && !os.IsNotExist(err) { // only an empty folder may stand there
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		if err := os.Rename(stage, dir); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		return nil
	}
	return stage, commit, cleanup, nil
}

// CleanTemps removes the staging leftovers (IsTemp names) for base inside
// dir, i.e. "."+base+TempInfix+"*" — what a killed WriteFile or StageDir
// of dir/base left. Call it only while holding the folder's lock (or for an
// output no other process writes). Returns the names removed.
func CleanTemps(dir, base string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+TempInfix+"*"))
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, m := range matches {
		if err := os.RemoveAll(m); err != nil {
			return removed, fmt.Errorf("removing the leftover %s: %w", m, err)
		}
		removed = append(removed, filepath.Base(m))
	}
	return removed, nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(s)
}
