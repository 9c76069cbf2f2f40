//go:build unix

package fileio

import (
	"os"
	"syscall"
)

// MapFile memory-maps the first size bytes of f read-only (size > 0; the
// mapping outlives f's closing) and returns them with the function that
// unmaps them (the token files of ops/data, safetensors checkpoints).
func MapFile(f *os.File, size int64) ([]byte, func() error, error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
