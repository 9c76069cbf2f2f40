package distill

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// sameDevice reports whether a and b are on one filesystem.
func sameDevice(t *testing.T, a, b string) bool {
	t.Helper()
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return true
	}
	return sa.Dev == sb.Dev
}

// TestRunDirOnAnotherFilesystem: with --run-dir on a different filesystem
// from --out (here /dev/shm, a tmpfs), an interrupted run, its --resume and
// the export all succeed: temporary files are staged beside their final
// destination, never renamed across filesystems.
func TestRunDirOnAnotherFilesystem(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny models end to end")
	}
	shm, err := os.MkdirTemp("/dev/shm", "gominitron-rundir-")
	if err != nil {
		t.Skip("no writable /dev/shm:", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	outParent := t.TempDir()
	if sameDevice(t, shm, outParent) {
		t.Skip("/dev/shm and the temp folder are one filesystem here")
	}
	teacher, student, tokens := runFixture(t)
	o := runOptions(teacher, student, tokens, filepath.Join(outParent, "new", "student"))
	o.RunDir = filepath.Join(shm, "run")
	o.Backend = testBackend(t)
	o.StopAfter = 2
	if _, err := Run(o); err != nil {
		t.Fatalf("interrupted run: %v", err)
	}
	o.StopAfter, o.Resume = 0, true
	lin, err := Run(o)
	if err != nil {
		t.Fatalf("resumed run with the run folder on another filesystem: %v", err)
	}
	if lin.ResumedFrom == "" {
		t.Error("not resumed")
	}
	for _, f := range []string{"config.json", "model.safetensors", LineageFile} {
		if _, err := os.Stat(filepath.Join(o.Out, f)); err != nil {
			t.Errorf("export: %v", err)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(o.Out))
	if len(entries) != 1 {
		t.Errorf("beside the export: %v, want only the export (no staging leftovers)", entries)
	}
}
