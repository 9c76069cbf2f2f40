package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gominitron/gominitron/internal/fileio"
)

// Hostile-file cases of issue 13 (docs/reliability.md): no command writes
// into what it reads, reads through a symlink out of a model folder, opens
// a FIFO or device as a file, or runs beside another writer of its run
// folder. Every refusal is an error naming the path; the inputs are
// byte-for-byte unchanged afterwards.

// safetyFixture is a scratch copy of a small HF model with the demo
// teacher's tokenizer, a precious metrics.jsonl, a text corpus and a JSONL
// corpus.
type safetyFixture struct {
	root, model, corpusTxt, corpusJSONL string
}

func newSafetyFixture(t *testing.T) safetyFixture {
	t.Helper()
	if os.Getenv("GOMLX_BACKEND") == "" {
		t.Setenv("GOMLX_BACKEND", "go")
	}
	root := t.TempDir()
	f := safetyFixture{root: root, model: filepath.Join(root, "model"),
		corpusTxt: filepath.Join(root, "corpus.txt"), corpusJSONL: filepath.Join(root, "corpus.jsonl")}
	copyInto(t, f.model, filepath.Join("..", "..", "testdata", "hf", "dev-llama-gqa"),
		"config.json", "generation_config.json", "model.safetensors", "reference.safetensors")
	copyInto(t, f.model, filepath.Join("..", "..", "models", "demo-teacher"), "tokenizer.json", "tokenizer_config.json")
	var metrics strings.Builder
	for i := range 1400 {
		metrics.WriteString(`{"step":` + strconv.Itoa(i) + `,"loss":1}` + "\n")
	}
	mustWrite(t, filepath.Join(f.model, "metrics.jsonl"), metrics.String())
	mustWrite(t, f.corpusTxt, strings.Repeat("The jury said that the city was fine.\n", 50))
	mustWrite(t, f.corpusJSONL, strings.Repeat(`{"text":"The jury said that the city was fine."}`+"\n", 50))
	return f
}

func copyInto(t *testing.T, dst, src string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(dst, n), string(data))
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshot maps every file under root (symlinks not followed) to a hash of
// its content (or its link target), to show a refused command changed
// nothing.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			m[p] = "link:" + target
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			m[p] = string(sum[:])
		case d.IsDir():
			m[p] = "dir"
		default:
			m[p] = "special:" + d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func assertUnchanged(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, h := range before {
		if after[p] != h {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

// runCommand runs a registered subcommand in-process with stdout discarded,
// returning its error (a panic fails the test: it would print a trace).
func runCommand(t *testing.T, name string, args ...string) (err error) {
	t.Helper()
	c := commands[name]
	if c == nil {
		t.Fatalf("no command %q", name)
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s %v panicked: %v", name, args, r)
		}
	}()
	old := os.Stdout
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	os.Stdout = devnull
	defer func() { os.Stdout = old; devnull.Close() }()
	return c.run(args)
}

// TestCommandsRefuseWritingIntoInputs: every output flag goes through the
// output-path guard; each case used to exit 0 and destroy the input.
func TestCommandsRefuseWritingIntoInputs(t *testing.T) {
	f := newSafetyFixture(t)
	m := f.model
	in := func(n string) string { return filepath.Join(m, n) }
	other := filepath.Join(f.root, "other-model") // a second model, not an input of the command
	copyInto(t, other, m, "config.json", "model.safetensors", "metrics.jsonl")
	os.Symlink(in("model.safetensors"), filepath.Join(f.root, "weights-link"))
	os.Symlink(m, filepath.Join(f.root, "model-link"))
	recipe := filepath.Join("..", "..", "recipes", "teacher-cpu.json")
	cases := []struct {
		name    string
		command string
		args    []string
		want    string // in the error, beside the output path
	}{
		{"importance --out MODEL/model.safetensors", "importance", []string{"--model", m, "--input", in("reference.safetensors"), "--out", in("model.safetensors")}, "inside, the input folder"},
		{"importance --out MODEL/config.json", "importance", []string{"--model", m, "--input", in("reference.safetensors"), "--out", in("config.json")}, "inside, the input folder"},
		{"importance --out MODEL/tokenizer.json", "importance", []string{"--model", m, "--input", in("reference.safetensors"), "--out", in("tokenizer.json")}, "inside, the input folder"},
		{"importance --out the --input file", "importance", []string{"--model", other, "--input", in("reference.safetensors"), "--out", in("reference.safetensors")}, "is the input file"},
		{"importance --out through a symlinked folder", "importance", []string{"--model", m, "--input", in("reference.safetensors"), "--out", filepath.Join(f.root, "model-link", "scores.json")}, "inside, the input folder"},
		{"bench --out MODEL/model.safetensors", "bench", []string{"--model", m, "--out", in("model.safetensors")}, "inside, the input folder"},
		{"bench --out a symlink to the weights", "bench", []string{"--model", m, "--out", filepath.Join(f.root, "weights-link")}, "inside, the input folder"},
		{"bench --config C --out C", "bench", []string{"--config", in("config.json"), "--random", "--out", in("config.json")}, "is the input file"},
		{"tokenizer train --out MODEL", "tokenizer train", []string{"--vocab", "300", "--out", other, f.corpusTxt}, "holds a model"},
		{"tokenizer train --out the corpus", "tokenizer train", []string{"--vocab", "300", "--out", f.corpusTxt, f.corpusTxt}, "is the input file"},
		{"data pack --out c.jsonl c.jsonl", "data pack", []string{"--tokenizer", m, "--out", f.corpusJSONL, f.corpusJSONL}, "is the input file"},
		{"data pack --out inside the tokenizer folder", "data pack", []string{"--tokenizer", m, "--out", in("data.tokens"), f.corpusJSONL}, "inside, the input folder"},
		{"data pack --out a folder holding the corpus", "data pack", []string{"--tokenizer", m, "--out", f.root, f.corpusJSONL}, "lies inside it"},
		{"forward --out its own --input", "forward", []string{"--model", other, "--input", in("reference.safetensors"), "--out", in("reference.safetensors")}, "is the input file"},
		{"forward --out MODEL/model.safetensors", "forward", []string{"--model", m, "--input", in("reference.safetensors"), "--out", in("model.safetensors")}, "inside, the input folder"},
		{"eval --out MODEL/config.json", "eval", []string{"--model", m, "--data", f.corpusTxt, "--out", in("config.json")}, "inside, the input folder"},
		{"eval --out the --data file", "eval", []string{"--model", other, "--data", f.corpusTxt, "--out", f.corpusTxt}, "is the input file"},
		{"eval --merge-into inside the model", "eval", []string{"--model", m, "--task", f.corpusJSONL, "--format", "mc", "--blocks", "1", "--merge-into", in("scores.json")}, "--merge-into"},
		{"eval --make-task onto the --data corpus", "eval", []string{"--data", f.corpusJSONL, "--make-task", f.corpusJSONL}, "is the input file"},
		{"prune --out MODEL/sub", "prune", []string{"--model", m, "--drop-layers", "1", "--out", in("sub")}, "inside, the input folder"},
		{"prune --out through a symlink", "prune", []string{"--model", m, "--drop-layers", "1", "--out", filepath.Join(f.root, "model-link")}, "inside, the input folder"},
		{"train --out an existing model", "train", []string{"--recipe", recipe, "--out", other}, "holds a model"},
		{"train --resume --out an existing model", "train", []string{"--recipe", recipe, "--out", other, "--resume"}, "holds a model"},
		{"finetune --out its --model", "finetune", []string{"--model", m, "--data", f.corpusTxt, "--out", m}, "would overwrite the source model"},
		{"finetune --out another model", "finetune", []string{"--model", m, "--data", f.corpusTxt, "--out", other}, "holds a model"},
		{"distill --run-dir TEACHER", "distill", []string{"--teacher", m, "--student", other, "--data", f.corpusTxt, "--steps", "3", "--out", filepath.Join(f.root, "d"), "--run-dir", m}, "inside, the input folder"},
		{"distill --run-dir STUDENT", "distill", []string{"--teacher", m, "--student", other, "--data", f.corpusTxt, "--steps", "3", "--out", filepath.Join(f.root, "d"), "--run-dir", other}, "inside, the input folder"},
		{"distill --out inside TEACHER", "distill", []string{"--teacher", m, "--student", other, "--data", f.corpusTxt, "--steps", "3", "--out", in("d")}, "inside, the input folder"},
		{"distill --run-dir = --out", "distill", []string{"--teacher", m, "--student", other, "--data", f.corpusTxt, "--steps", "3", "--out", filepath.Join(f.root, "d"), "--run-dir", filepath.Join(f.root, "d")}, "the output folder"},
		{"reproduce --out inside the teacher", "reproduce", []string{"kd-vs-ce", "--scale", "smoke", "--teacher", m, "--out", in("results")}, "inside, the input folder"},
		{"search --out inside the model", "search", []string{"--model", m, "--scale", "smoke", "--out", in("search")}, "inside, the input folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, f.root)
			err := runCommand(t, c.command, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			assertUnchanged(t, before, snapshot(t, f.root))
		})
	}
}

// TestOutputParentsCreated: outputs whose parent folders do not exist yet
// are written (the folders are created), as notebooks need in a fresh
// checkout.
func TestOutputParentsCreated(t *testing.T) {
	f := newSafetyFixture(t)
	cases := []struct {
		name, command string
		args          func(out string) []string
		out           string // relative to a fresh folder
		want          string // a file that must exist under out (or out itself)
	}{
		{"prune --out runs/deep/pruned", "prune", func(o string) []string { return []string{"--model", f.model, "--drop-layers", "1", "--out", o} }, "runs/deep/pruned", "config.json"},
		{"forward --out new/dir/out.safetensors", "forward", func(o string) []string {
			return []string{"--model", f.model, "--input", filepath.Join(f.model, "reference.safetensors"), "--logits-only", "--out", o}
		}, "new/dir/out.safetensors", ""},
		{"tokenizer train --out new/tok", "tokenizer train", func(o string) []string { return []string{"--vocab", "300", "--out", o, f.corpusTxt} }, "new/tok", "tokenizer.json"},
		{"data pack --out new/data/c.tokens", "data pack", func(o string) []string { return []string{"--tokenizer", f.model, "--out", o, f.corpusJSONL} }, "new/data/c.tokens", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), filepath.FromSlash(c.out))
			if err := runCommand(t, c.command, c.args(out)...); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(out, c.want)); err != nil {
				t.Fatalf("output missing: %v", err)
			}
			assertNoLeftovers(t, filepath.Dir(out))
		})
	}
}

func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fileio.IsTemp(e.Name()) {
			t.Errorf("staging leftover %s in %s", e.Name(), dir)
		}
	}
}

// TestSymlinksAndSpecialFiles: side files are copied only when they are
// regular files inside the model folder; a FIFO, device or folder standing
// where a file is read is refused by name (never read, never waited on).
func TestSymlinksAndSpecialFiles(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	mustWrite(t, secret, "root:$6$secret")
	type setup func(t *testing.T, f safetyFixture)
	// replace makes a setup that puts what create makes in place of the
	// model folder's file name.
	replace := func(name string, create func(path string) error) setup {
		return func(t *testing.T, f safetyFixture) {
			p := filepath.Join(f.model, name)
			os.Remove(p)
			if err := create(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	link := func(name, target string) setup {
		return replace(name, func(p string) error { return os.Symlink(target, p) })
	}
	fifo := func(name string) setup {
		return replace(name, func(p string) error { return syscall.Mkfifo(p, 0o644) })
	}
	folder := func(name string) setup {
		return replace(name, func(p string) error { return os.Mkdir(p, 0o755) })
	}
	prune := func(f safetyFixture, out string) (string, []string) {
		return "prune", []string{"--model", f.model, "--drop-layers", "1", "--out", out}
	}
	cases := []struct {
		name  string
		setup setup
		run   func(f safetyFixture, out string) (string, []string)
		want  string
	}{
		{"prune: merges.txt -> a secret outside the model", link("merges.txt", secret), prune, "outside the folder"},
		{"prune: generation_config.json -> /dev/zero", link("generation_config.json", "/dev/zero"), prune, "outside the folder"},
		{"prune: vocab.json -> ../../etc/passwd (relative)", link("vocab.json", "../../../../../../../../etc/passwd"), prune, "outside the folder"},
		{"prune: special_tokens_map.json is a FIFO", fifo("special_tokens_map.json"), prune, "named pipe"},
		{"prune: tokenizer.model is a folder", folder("tokenizer.model"), prune, "is a folder"},
		{"tokenize: tokenizer.json -> /dev/zero", link("tokenizer.json", "/dev/zero"), func(f safetyFixture, _ string) (string, []string) {
			return "tokenize", []string{"--tokenizer", f.model, "--text", "hi"}
		}, "character device"},
		{"tokenize: tokenizer.json is a FIFO", fifo("tokenizer.json"), func(f safetyFixture, _ string) (string, []string) {
			return "tokenize", []string{"--tokenizer", f.model, "--text", "hi"}
		}, "named pipe"},
		{"tokenize: tokenizer.json is a folder", folder("tokenizer.json"), func(f safetyFixture, _ string) (string, []string) {
			return "tokenize", []string{"--tokenizer", f.model, "--text", "hi"}
		}, "is a folder"},
		{"inspect: model.safetensors is a folder", folder("model.safetensors"), func(f safetyFixture, _ string) (string, []string) {
			return "inspect", []string{"--model", f.model}
		}, "model.safetensors is a folder"},
		{"inspect: model.safetensors is a FIFO", fifo("model.safetensors"), func(f safetyFixture, _ string) (string, []string) {
			return "inspect", []string{"--model", f.model}
		}, "model.safetensors is a named pipe"},
		{"inspect: config.json is a FIFO", fifo("config.json"), func(f safetyFixture, _ string) (string, []string) {
			return "inspect", []string{"--model", f.model}
		}, "config.json is a named pipe"},
		{"inspect: config.json -> /dev/zero", link("config.json", "/dev/zero"), func(f safetyFixture, _ string) (string, []string) {
			return "inspect", []string{"--model", f.model}
		}, "character device"},
		{"generate: model.safetensors is a FIFO", fifo("model.safetensors"), func(f safetyFixture, _ string) (string, []string) {
			return "generate", []string{"--model", f.model, "--prompt", "1,2", "--max-new-tokens", "2"}
		}, "named pipe"},
		{"data pack: the corpus is a FIFO", fifo("corpus.jsonl"), func(f safetyFixture, out string) (string, []string) {
			return "data pack", []string{"--tokenizer", f.model, "--out", out, filepath.Join(f.model, "corpus.jsonl")}
		}, "named pipe"},
		{"data info: a folder", folder("x.tokens"), func(f safetyFixture, _ string) (string, []string) {
			return "data info", []string{filepath.Join(f.model, "x.tokens")}
		}, "is a folder"},
		{"eval --task is a FIFO", fifo("task.jsonl"), func(f safetyFixture, _ string) (string, []string) {
			return "eval", []string{"--model", f.model, "--task", filepath.Join(f.model, "task.jsonl"), "--format", "mc"}
		}, "named pipe"},
		{"train --recipe is a FIFO", fifo("recipe.json"), func(f safetyFixture, out string) (string, []string) {
			return "train", []string{"--recipe", filepath.Join(f.model, "recipe.json"), "--out", out}
		}, "named pipe"},
		{"forward --input is a FIFO", fifo("in.safetensors"), func(f safetyFixture, out string) (string, []string) {
			return "forward", []string{"--model", f.model, "--input", filepath.Join(f.model, "in.safetensors"), "--out", out}
		}, "named pipe"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newSafetyFixture(t)
			c.setup(t, f)
			out := filepath.Join(t.TempDir(), "out")
			name, args := c.run(f, out)
			before := snapshot(t, f.root)
			err := runCommand(t, name, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			assertUnchanged(t, before, snapshot(t, f.root))
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s written although the command failed", out)
			}
			assertNoLeftovers(t, filepath.Dir(out))
		})
	}
}

// TestSideFileSymlinkInsideIsCopied: a side file linked to a regular file
// inside the model folder is copied as a regular file.
func TestSideFileSymlinkInsideIsCopied(t *testing.T) {
	f := newSafetyFixture(t)
	mustWrite(t, filepath.Join(f.model, "blobs", "merges"), "a b\n")
	if err := os.Symlink(filepath.Join("blobs", "merges"), filepath.Join(f.model, "merges.txt")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "pruned")
	if err := runCommand(t, "prune", "--model", f.model, "--drop-layers", "1", "--out", out); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(filepath.Join(out, "merges.txt"))
	if err != nil || !st.Mode().IsRegular() {
		t.Fatalf("merges.txt in the output: %v %v, want a regular file", st, err)
	}
}

// TestStaleStagingLeftoverIgnored: a staging folder left beside --out by a
// killed prune does not block or confuse the next run.
func TestStaleStagingLeftoverIgnored(t *testing.T) {
	f := newSafetyFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "pruned")
	stale := filepath.Join(dir, ".pruned"+fileio.TempInfix+"12345", "pruned")
	mustWrite(t, filepath.Join(stale, "config.json"), "{half")
	if err := runCommand(t, "prune", "--model", f.model, "--drop-layers", "1", "--out", out); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(out, "config.json")); err != nil || strings.Contains(string(data), "{half") {
		t.Fatalf("output config.json: %q %v", data, err)
	}
}

// TestLockHolderProcess is the helper process of TestRunFolderLocked: it
// holds the lock of $GOMINITRON_HOLD_LOCK until its stdin closes.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv("GOMINITRON_HOLD_LOCK")
	if dir == "" {
		t.Skip("helper process only")
	}
	l, err := fileio.LockDir(dir)
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return
	}
	os.Stdout.WriteString("locked\n")
	bufio.NewReader(os.Stdin).ReadByte()
	l.Release()
}

// holdLock starts a second process holding dir's run-folder lock; the
// returned pid is the holder's, and the lock is freed at the test's end.
func holdLock(t *testing.T, dir string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLockHolderProcess$")
	cmd.Env = append(os.Environ(), "GOMINITRON_HOLD_LOCK="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("lock holder: %q %v", line, err)
	}
	return cmd.Process.Pid
}

// TestRunFolderLocked: a second writer of a run folder fails at once,
// naming the holder's pid, and leaves the folder as it was.
func TestRunFolderLocked(t *testing.T) {
	f := newSafetyFixture(t)
	recipe := filepath.Join("..", "..", "recipes", "teacher-cpu.json")
	cases := []struct {
		name    string
		command string
		args    func(dir string) []string
	}{
		{"train --out", "train", func(d string) []string { return []string{"--recipe", recipe, "--out", d} }},
		{"train --resume --out", "train", func(d string) []string { return []string{"--recipe", recipe, "--out", d, "--resume"} }},
		{"finetune --out", "finetune", func(d string) []string { return []string{"--model", f.model, "--data", f.corpusTxt, "--out", d} }},
		{"distill --run-dir", "distill", func(d string) []string {
			return []string{"--teacher", f.model, "--student", f.model, "--data", f.corpusTxt, "--steps", "2", "--out", filepath.Join(filepath.Dir(d), "student"), "--run-dir", d}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			pid := holdLock(t, dir)
			before := snapshot(t, filepath.Dir(dir))
			err := runCommand(t, c.command, c.args(dir)...)
			if err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(pid)) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %v, want one naming the holder pid %d and %s", err, pid, dir)
			}
			assertUnchanged(t, before, snapshot(t, filepath.Dir(dir)))
		})
	}
}
