package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/internal/fileio"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeCheckpoint writes dir/checkpoints/step-N with the given files.
func fakeCheckpoint(t *testing.T, dir string, step string, files ...string) string {
	t.Helper()
	p := filepath.Join(dir, CheckpointsDir, checkpointPrefix+step)
	for _, f := range files {
		touch(t, filepath.Join(p, f))
	}
	return p
}

func TestOpenRunDir(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		resume  bool
		wantErr string
	}{
		{"missing folder is created", nil, false, ""},
		{"empty folder", func(t *testing.T, d string) { os.MkdirAll(d, 0o755) }, false, ""},
		{"only leftovers and a lock file", func(t *testing.T, d string) {
			touch(t, filepath.Join(d, ".metrics.jsonl"+fileio.TempInfix+"1"))
			touch(t, filepath.Join(d, fileio.LockFileName))
			touch(t, filepath.Join(d, CheckpointsDir, ".step-00000002"+fileio.TempInfix+"9", checkpointStateFile))
		}, false, ""},
		{"a model folder", func(t *testing.T, d string) { touch(t, filepath.Join(d, "config.json")) }, false, "holds a model"},
		{"a model folder with resume", func(t *testing.T, d string) { touch(t, filepath.Join(d, "model.safetensors")) }, true, "holds a model"},
		{"checkpoints without resume", func(t *testing.T, d string) {
			fakeCheckpoint(t, d, "00000004", checkpointStateFile, checkpointTensors)
		}, false, "resume = true"},
		{"other content without resume", func(t *testing.T, d string) { touch(t, filepath.Join(d, "metrics.jsonl")) }, false, "is not empty (metrics.jsonl)"},
		{"other content with resume", func(t *testing.T, d string) { touch(t, filepath.Join(d, "metrics.jsonl")) }, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if c.prepare != nil {
				c.prepare(t, dir)
			}
			lock, err := OpenRunDir(dir, c.resume)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), dir) {
					t.Fatalf("error %v, want %q naming %s", err, c.wantErr, dir)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Release()
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				t.Fatalf("run folder not created: %v", err)
			}
		})
	}
}

// TestLeftoversOfKilledRun: staging files, interrupted checkpoint saves and
// half-deleted checkpoints are never taken for checkpoints, and the next
// OpenRunDir removes them (restoring a checkpoint that was only moved aside).
func TestLeftoversOfKilledRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ck := filepath.Join(dir, CheckpointsDir)
	good := fakeCheckpoint(t, dir, "00000002", checkpointStateFile, checkpointTensors)
	halfDeleted := fakeCheckpoint(t, dir, "00000006", checkpointStateFile)                             // tensors removed, state left
	halfWritten := fakeCheckpoint(t, dir, "00000008", checkpointTensors)                               // state.json never written
	movedAside := fakeCheckpoint(t, dir, "00000004"+oldSuffix, checkpointStateFile, checkpointTensors) // only copy of step 4
	staleSave := filepath.Join(ck, ".step-00000010"+fileio.TempInfix+"77")
	touch(t, filepath.Join(staleSave, checkpointStateFile))
	touch(t, filepath.Join(staleSave, checkpointTensors))
	staleDelete := filepath.Join(ck, ".step-00000000"+fileio.TempInfix+"deleted")
	touch(t, filepath.Join(staleDelete, checkpointStateFile))
	staleTop := filepath.Join(dir, ".metrics.jsonl"+fileio.TempInfix+"5")
	touch(t, staleTop)

	all, err := ListCheckpoints(ck)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0] != good {
		t.Fatalf("checkpoints %v, want only %s (leftovers and incomplete ones ignored)", all, good)
	}

	lock, err := OpenRunDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	for _, p := range []string{staleSave, staleDelete, staleTop, movedAside} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("leftover %s not removed", p)
		}
	}
	restored := filepath.Join(ck, checkpointPrefix+"00000004")
	if latest, _ := LatestCheckpoint(ck); latest != restored {
		t.Errorf("latest checkpoint %q, want the restored %s", latest, restored)
	}
	for _, p := range []string{halfDeleted, halfWritten} { // incomplete: still ignored, never deleted blindly
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestRemoveCheckpointLeavesNoPartialCheckpoint(t *testing.T) {
	dir := t.TempDir()
	p := fakeCheckpoint(t, dir, "00000003", checkpointStateFile, checkpointTensors)
	removeCheckpoint(p)
	entries, _ := os.ReadDir(filepath.Join(dir, CheckpointsDir))
	if len(entries) != 0 {
		t.Errorf("left %v after removing %s", entries, p)
	}
}
