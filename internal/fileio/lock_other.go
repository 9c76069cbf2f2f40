//go:build !unix

package fileio

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("lock held")

// Without flock, locking is a no-op outside Unix.
func tryLock(f *os.File) error { return nil }

func unlock(f *os.File) error { return nil }
