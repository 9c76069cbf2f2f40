package evaluate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SandboxRunner runs untrusted Python (MBPP generations) with bubblewrap:
// a separate process in new user, network, PID, IPC and UTS namespaces (no
// network at all), the host's /usr (and /bin, /lib*) read-only, the program
// read-only in a fresh working folder, an empty environment, a wall-clock
// timeout and address-space / CPU-time / process / file-size limits (set
// with util-linux prlimit inside the sandbox). The working folder and /tmp
// are size-limited tmpfs mounts (bwrap ≥ 0.7's --size; with an older bwrap
// the working folder is a host folder deleted afterwards and the file-size
// limit bounds each write). There is no fallback to running unsandboxed:
// NewSandboxRunner fails when bwrap is missing or cannot create the
// namespaces.
type SandboxRunner struct {
	Bwrap, Prlimit, Python string        // absolute paths; Python and Prlimit must live under /usr or /bin
	Timeout                time.Duration // wall clock per program (the harness's code_eval uses 3 s)
	MemoryBytes            uint64        // address-space limit (RLIMIT_AS)
	// NoTmpfsSize: this bwrap has no --size (set by NewSandboxRunner's probe).
	NoTmpfsSize bool
}

// sandboxTmpfsBytes bounds what a program may write (working folder, /tmp).
const sandboxTmpfsBytes = 64 << 20

// Default sandbox limits.
const (
	DefaultSandboxTimeout = 3 * time.Second
	DefaultSandboxMemory  = 1 << 30
)

// NewSandboxRunner finds bwrap, prlimit and python3 and checks that a
// program really runs inside the sandbox (and cannot reach the network);
// the error says what is missing.
func NewSandboxRunner() (*SandboxRunner, error) {
	s := &SandboxRunner{Timeout: DefaultSandboxTimeout, MemoryBytes: DefaultSandboxMemory}
	var err error
	if s.Bwrap, err = exec.LookPath("bwrap"); err != nil {
		return nil, fmt.Errorf("evaluate: no sandbox for running generated code: bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap); refusing to run it unsandboxed")
	}
	for _, c := range []struct {
		dst  *string
		cand []string
	}{
		{&s.Prlimit, []string{"/usr/bin/prlimit", "/bin/prlimit"}},
		{&s.Python, []string{"/usr/bin/python3", "/bin/python3"}},
	} {
		for _, p := range c.cand {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				*c.dst = p
				break
			}
		}
		if *c.dst == "" {
			return nil, fmt.Errorf("evaluate: sandbox: none of %v exists (util-linux prlimit and a system python3 are needed inside the sandbox)", c.cand)
		}
	}
	probe := "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n    raise SystemExit(3)\nexcept OSError:\n    pass\n"
	ok, detail, err := s.RunPython(probe)
	if err != nil && strings.Contains(err.Error(), "--size") { // bwrap < 0.7
		s.NoTmpfsSize = true
		ok, detail, err = s.RunPython(probe)
	}
	if err != nil {
		return nil, fmt.Errorf("evaluate: sandbox probe failed: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("evaluate: sandbox probe failed (is the network really cut off?): %s", detail)
	}
	return s, nil
}

// RunPython implements CodeRunner: passed is true when the program exits
// with status 0 within the limits; detail is the tail of its output (or
// "timeout"). err is for failures of the sandbox itself.
func (s *SandboxRunner) RunPython(program string) (passed bool, detail string, err error) {
	dir, err := os.MkdirTemp("", "gominitron-sandbox-")
	if err != nil {
		return false, "", fmt.Errorf("sandbox folder: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "program.py"), []byte(program), 0o644); err != nil {
		return false, "", fmt.Errorf("sandbox program: %w", err)
	}
	cpu := max(1, int(s.Timeout.Seconds()+0.999))
	args := []string{
		"--unshare-all", "--die-with-parent", "--new-session",
		"--ro-bind", "/usr", "/usr",
		"--ro-bind-try", "/bin", "/bin",
		"--ro-bind-try", "/lib", "/lib",
		"--ro-bind-try", "/lib64", "/lib64",
		"--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
		"--proc", "/proc", "--dev", "/dev",
	}
	size := strconv.Itoa(sandboxTmpfsBytes)
	if s.NoTmpfsSize {
		args = append(args, "--tmpfs", "/tmp", "--bind", dir, "/sandbox")
	} else {
		args = append(args, "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/sandbox",
			"--ro-bind", filepath.Join(dir, "program.py"), "/sandbox/program.py")
	}
	args = append(args, "--chdir", "/sandbox",
		"--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/sandbox",
		"--",
		s.Prlimit, "--as="+strconv.FormatUint(s.MemoryBytes, 10), "--cpu="+strconv.Itoa(cpu), "--nproc=64", "--fsize=16777216",
		s.Python, "-I", "-B", "program.py")
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Bwrap, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	tail := out.String()
	if len(tail) > 400 {
		tail = tail[len(tail)-400:]
	}
	if ctx.Err() != nil {
		return false, "timeout after " + s.Timeout.String(), nil
	}
	if runErr == nil {
		return true, tail, nil
	}
	var ee *exec.ExitError
	if !errors.As(runErr, &ee) {
		return false, "", fmt.Errorf("starting bwrap: %w", runErr)
	}
	if strings.HasPrefix(tail, "bwrap:") {
		return false, "", fmt.Errorf("bwrap: %s", strings.TrimSpace(strings.TrimPrefix(tail, "bwrap:")))
	}
	return false, tail, nil
}
