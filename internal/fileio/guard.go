package fileio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Resolve returns the absolute, symlink-free form of path, which need not
// exist: the longest existing prefix is resolved (symlinks and ".." as the
// operating system follows them) and the missing rest appended.
func Resolve(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty path")
	}
	p := path
	if !filepath.IsAbs(p) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		p = wd + string(filepath.Separator) + p // not Join: ".." must apply after symlinks
	}
	var rest []string
	cur := p
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			for i := len(rest) - 1; i >= 0; i-- {
				r = filepath.Join(r, rest[i])
			}
			return filepath.Clean(r), nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", fmt.Errorf("resolving %s: %w", path, err)
		}
		trimmed := strings.TrimRight(cur, string(filepath.Separator))
		parent, base := filepath.Split(trimmed)
		if base == "" || parent == "" || parent == cur {
			return filepath.Clean(p), nil
		}
		if base != "." {
			rest = append(rest, base)
		}
		cur = parent
	}
}

// within reports whether child equals parent or lies inside it (both
// resolved).
func within(child, parent string) bool {
	if child == parent {
		return true
	}
	if parent == string(filepath.Separator) {
		return true
	}
	return strings.HasPrefix(child, parent+string(filepath.Separator))
}

// CheckOutput refuses an output path that would destroy or mix with an
// input: out equal to an input file, out equal to or inside an input
// folder, or an input inside out (writing out would replace it). Symlinks
// and ".." are resolved first; the error names both paths as given (and
// resolved when they differ). Empty inputs are skipped; inputs that do not
// exist are compared by their path alone.
func CheckOutput(out string, inputs ...string) error {
	return checkOutput(out, false, inputs)
}

// CheckMergeOutput is CheckOutput for an output that is allowed to be one
// of the inputs, rewritten in place (e.g. merging a result into an
// importance file): out may equal an input file but must still not lie
// inside an input folder.
func CheckMergeOutput(out string, inputs ...string) error {
	return checkOutput(out, true, inputs)
}

func checkOutput(out string, allowSame bool, inputs []string) error {
	if out == "" {
		return nil
	}
	ro, err := Resolve(out)
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		ri, err := Resolve(in)
		if err != nil {
			return err
		}
		st, serr := os.Stat(ri)
		isDir := serr == nil && st.IsDir()
		switch {
		case ro == ri && !isDir:
			if allowSame {
				continue
			}
			return fmt.Errorf("refusing to write %s: it is the input file %s%s", out, in, resolvedNote(out, ro, in, ri))
		case isDir && within(ro, ri):
			return fmt.Errorf("refusing to write %s: it is, or is inside, the input folder %s%s; write outside it", out, in, resolvedNote(out, ro, in, ri))
		case within(ri, ro):
			return fmt.Errorf("refusing to write %s: the input %s lies inside it and would be replaced%s", out, in, resolvedNote(out, ro, in, ri))
		}
	}
	return nil
}

func resolvedNote(out, ro, in, ri string) string {
	ao, _ := filepath.Abs(out)
	ai, _ := filepath.Abs(in)
	if ao == ro && ai == ri {
		return ""
	}
	return fmt.Sprintf(" (resolved: %s and %s)", ro, ri)
}
