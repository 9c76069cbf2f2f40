package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxSideFileBytes caps the size of the small files that travel with a
// model (tokenizer files, merges.txt, generation_config.json, config.json).
const MaxSideFileBytes int64 = 1 << 30

// kindOf names a non-regular file mode for messages.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}

// CheckRegular returns path's (symlink-followed) file info if it is a
// regular file, or an error naming the path and what it is instead. A
// missing file returns an error wrapping fs.ErrNotExist.
func CheckRegular(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file", path, kindOf(st.Mode()))
	}
	return st, nil
}

// OpenRegular opens path for reading if it is a regular file (CheckRegular;
// a FIFO is never opened, so the call cannot block on it).
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	if _, err := CheckRegular(path); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat() // the file opened may have been swapped since the check
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %s, not a regular file", path, kindOf(st.Mode()))
	}
	return f, st, nil
}

// ReadRegular reads a whole regular file of at most maxBytes (≤ 0: no cap),
// refusing other kinds of files and bigger ones by name.
func ReadRegular(path string, maxBytes int64) ([]byte, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if maxBytes > 0 && st.Size() > maxBytes {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit for this kind of file", path, st.Size(), maxBytes)
	}
	r := io.Reader(f)
	if maxBytes > 0 {
		r = io.LimitReader(f, maxBytes+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if maxBytes > 0 && int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%s grew over the %d-byte limit while being read", path, maxBytes)
	}
	return data, nil
}

// CheckInside refuses a path that, with its symlinks resolved, lies outside
// root (also resolved): a model folder's side file linked to /etc/shadow or
// /dev/zero is never read through it.
func CheckInside(root, path string) error {
	rr, err := Resolve(root)
	if err != nil {
		return err
	}
	rp, err := Resolve(path)
	if err != nil {
		return err
	}
	if rp == rr || !within(rp, rr) {
		return fmt.Errorf("%s resolves to %s, outside the folder %s; refusing to read it", path, rp, root)
	}
	return nil
}

// ReadSideFile reads root/name, a small file that travels with a model
// folder: it must be a regular file, resolve inside root and be at most
// MaxSideFileBytes. ok is false (and err nil) when the file does not exist.
func ReadSideFile(root, name string) (data []byte, ok bool, err error) {
	path := filepath.Join(root, name)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err := CheckInside(root, path); err != nil {
		return nil, false, err
	}
	data, err = ReadRegular(path, MaxSideFileBytes)
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// CopySideFile copies root/name to dst atomically (WriteFile) through
// ReadSideFile's checks; a missing source is skipped (copied false).
func CopySideFile(root, name, dst string) (copied bool, err error) {
	data, ok, err := ReadSideFile(root, name)
	if err != nil || !ok {
		return false, err
	}
	if err := WriteFile(dst, data); err != nil {
		return false, err
	}
	return true, nil
}
