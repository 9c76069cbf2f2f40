package fileio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFileName is the advisory lock file a writer keeps in a run folder.
const LockFileName = ".gominitron.lock"

// ErrLocked is returned (wrapped) by LockDir when another process holds
// the folder's lock.
var ErrLocked = errors.New("folder is in use")

// Lock is a held run-folder lock; Release frees it.
type Lock struct {
	f    *os.File
	path string
}

// LockDir creates dir (and its parents) if missing and takes its advisory
// lock: an exclusive, non-blocking lock on dir/LockFileName, which then
// holds this process's pid. A second writer fails at once with ErrLocked
// naming the holder's pid. The operating system frees the lock when the
// process dies, so a killed run never leaves the folder locked.
func LockDir(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w: %s is being written by another gominitron process (pid %s, per %s); wait for it to finish or choose another folder",
				ErrLocked, dir, holderPID(path), path)
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		_ = f.Sync()
	}
	return &Lock{f: f, path: path}, nil
}

// Release frees the lock (the lock file stays; it is harmless and reused).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = unlock(l.f)
	err := l.f.Close()
	l.f = nil
	return err
}

func holderPID(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	s := strings.TrimSpace(string(data))
	if _, err := strconv.Atoi(s); err != nil {
		return "unknown"
	}
	return s
}
