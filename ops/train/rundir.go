package train

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/llm"
)

// OpenRunDir prepares dir as the run folder of a training command (train,
// finetune, distill's run folder) and returns its lock, which the caller
// releases when done:
//   - a folder holding a model (llm.IsModelDir) is refused: its files
//     (metrics.jsonl, report.json, …) would be overwritten;
//   - without resume, a folder holding checkpoints or anything else is
//     refused (only the lock file and staging leftovers may stand there);
//   - the folder (and its parents) is created and locked (fileio.LockDir:
//     a second writer fails at once, naming the holder's pid);
//   - under the lock, the leftovers of a killed run are removed: staging
//     files and folders (fileio.IsTemp) in dir and dir/checkpoints, and
//     checkpoints moved aside (step-*.old) by an interrupted save.
func OpenRunDir(dir string, resume bool) (*fileio.Lock, error) {
	if llm.IsModelDir(dir) {
		return nil, fmt.Errorf("train: %s holds a model (config.json or safetensors weights); refusing to use it as a run folder: choose a new folder", dir)
	}
	lock, err := fileio.LockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if !resume {
		if latest, _ := LatestCheckpoint(filepath.Join(dir, CheckpointsDir)); latest != "" {
			lock.Release()
			return nil, fmt.Errorf("train: %s already holds checkpoints (newest %s): open it with resume = true to continue, or choose another folder", dir, latest)
		}
		if names := runDirContent(dir); len(names) > 0 {
			lock.Release()
			return nil, fmt.Errorf("train: %s is not empty (%s): resume the run there or choose a new folder", dir, strings.Join(names, ", "))
		}
	}
	if err := cleanLeftovers(dir); err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}

// runDirContent lists dir's entries other than the lock file and staging
// leftovers (at most 5 names).
func runDirContent(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.Name() == fileio.LockFileName || fileio.IsTemp(e.Name()) {
			continue
		}
		if e.Name() == CheckpointsDir && len(checkpointContent(filepath.Join(dir, CheckpointsDir))) == 0 {
			continue // only leftovers of an interrupted first save
		}
		if len(names) == 5 {
			names = append(names, "…")
			break
		}
		names = append(names, e.Name())
	}
	return names
}

func checkpointContent(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if !fileio.IsTemp(e.Name()) && !isMovedAside(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// isMovedAside reports a checkpoint moved aside by Checkpointer.Save
// (step-N.old) before its replacement was renamed in.
func isMovedAside(name string) bool {
	return strings.HasPrefix(name, checkpointPrefix) && strings.HasSuffix(name, oldSuffix)
}

// cleanLeftovers removes what a killed run left in dir and dir/checkpoints
// (see OpenRunDir); the caller holds dir's lock.
func cleanLeftovers(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, CheckpointsDir)} {
		entries, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		for _, e := range entries {
			if d != dir && isMovedAside(e.Name()) {
				// Killed between moving step-N aside and renaming its
				// replacement in: put it back when it is the only copy.
				kept := filepath.Join(d, strings.TrimSuffix(e.Name(), oldSuffix))
				if _, err := os.Lstat(kept); errors.Is(err, fs.ErrNotExist) {
					if err := os.Rename(filepath.Join(d, e.Name()), kept); err != nil {
						return fmt.Errorf("train: restoring %s: %w", kept, err)
					}
					continue
				}
			}
			if fileio.IsTemp(e.Name()) || (d != dir && isMovedAside(e.Name())) {
				if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil {
					return fmt.Errorf("train: removing the leftover %s: %w", filepath.Join(d, e.Name()), err)
				}
			}
		}
	}
	return nil
}
