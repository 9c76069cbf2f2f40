package main

import (
	"io"
	"os"
	"testing"
)

// captureStdout runs a command's fn with os.Stdout redirected and returns what
// it printed (GOMLX_BACKEND=go when unset); a failed command fails the test.
func captureStdout(t *testing.T, fn func() error) []byte {
	t.Helper()
	if os.Getenv("GOMLX_BACKEND") == "" {
		t.Setenv("GOMLX_BACKEND", "go")
	}
	out, runErr := capture(t, &os.Stdout, fn)
	if runErr != nil {
		t.Fatalf("command failed: %v\n%s", runErr, out)
	}
	return []byte(out)
}

// captureStderr runs fn with os.Stderr redirected and returns what it
// printed along with fn's error.
func captureStderr(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	return capture(t, &os.Stderr, fn)
}

// capture runs fn with *stream (os.Stdout or os.Stderr) redirected to a pipe
// and returns what it printed along with fn's error.
func capture(t *testing.T, stream **os.File, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := *stream
	*stream = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	runErr := fn()
	w.Close()
	*stream = old
	return string(<-done), runErr
}
