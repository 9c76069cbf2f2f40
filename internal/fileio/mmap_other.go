//go:build !unix

package fileio

import (
	"io"
	"os"
)

// MapFile reads the first size bytes of f where mmap is unavailable (the
// returned unmap does nothing).
func MapFile(f *os.File, size int64) ([]byte, func() error, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
