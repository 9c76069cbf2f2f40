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
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	runErr := fn()
	w.Close()
	os.Stdout = old
	out := <-done
	if runErr != nil {
		t.Fatalf("command failed: %v\n%s", runErr, out)
	}
	return out
}
