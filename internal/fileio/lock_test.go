package fileio

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLockDirReentrantInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "new")
	a, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LockDir(dir) // the same process (distill → trainer) may nest
	if err != nil {
		t.Fatalf("nested lock: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, LockFileName)); strings.TrimSpace(string(got)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want this pid %d", got, os.Getpid())
	}
	b.Release()
	b.Release() // twice: no-op
	a.Release()
	c, err := LockDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	c.Release()
}

// TestLockHelperProcess is the second process of TestLockDirOtherProcess: it
// holds the lock of $LOCK_DIR until its stdin closes.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv("GOMINITRON_LOCK_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	l, err := LockDir(dir)
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return
	}
	os.Stdout.WriteString("locked\n")
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	l.Release()
}

func TestLockDirOtherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "GOMINITRON_LOCK_DIR="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	buf := make([]byte, 7)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper: %q %v", buf, err)
	}
	_, err := LockDir(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) || !strings.Contains(err.Error(), dir) {
		t.Errorf("message %q does not name the holder pid %d and the folder", err, cmd.Process.Pid)
	}
	// A killed holder frees the lock (the OS drops flock with the process).
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := LockDir(dir)
		if err == nil {
			l.Release()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock still held after the holder was killed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
