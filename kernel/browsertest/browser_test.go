package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInteractiveNotebookInBrowser runs scripts/browser_test.sh (Jupyter on
// loopback + headless Chromium on 05-interactive-pruning) when
// GOMINITRON_BROWSER_TEST=1 (CI sets it after installing Chromium); it
// takes ~25 s at smoke scale with a warm Go build cache.
func TestInteractiveNotebookInBrowser(t *testing.T) {
	if os.Getenv("GOMINITRON_BROWSER_TEST") != "1" {
		t.Skip("set GOMINITRON_BROWSER_TEST=1 to run the real-browser test (needs Chromium and the gonb kernel)")
	}
	shot := filepath.Join(t.TempDir(), "interactive-pruning.png")
	cmd := exec.Command("../../scripts/browser_test.sh", "--screenshot", shot)
	cmd.Env = append(os.Environ(), "BROWSER_TEST_TIMEOUT=600")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("scripts/browser_test.sh: %v", err)
	}
	if !strings.Contains(string(out), "browsertest: PASS") {
		t.Fatal("no PASS line")
	}
	if info, err := os.Stat(shot); err != nil || info.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
}
