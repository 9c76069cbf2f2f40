package evaluate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSandboxRefusesWithoutBwrap: with no bwrap on PATH there is no
// runner, and the error says how to get one.
func TestSandboxRefusesWithoutBwrap(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := NewSandboxRunner()
	if err == nil || !strings.Contains(err.Error(), "bubblewrap") || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("error %v, want a refusal naming bubblewrap", err)
	}
}

func newTestSandbox(t *testing.T) *SandboxRunner {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap not installed (apt-get install bubblewrap)")
	}
	s, err := NewSandboxRunner()
	if err != nil {
		if os.Getenv("GOMINITRON_REQUIRE_SANDBOX") != "" {
			t.Fatal(err)
		}
		t.Skipf("bwrap is installed but cannot sandbox here (set GOMINITRON_REQUIRE_SANDBOX=1 to fail): %v", err)
	}
	return s
}

// TestSandboxLimits: passing and failing asserts, time, memory, network,
// and writes outside the throwaway folder.
func TestSandboxLimits(t *testing.T) {
	s := newTestSandbox(t)
	s.Timeout = 2 * time.Second
	s.MemoryBytes = 256 << 20
	outside := filepath.Join(t.TempDir(), "escaped")
	cases := []struct {
		name, program string
		pass          bool
		detail        string
	}{
		{"passing asserts", MBPPProgram("def add(a, b):\n    return a + b", []string{"assert add(1, 2) == 3", "assert add(-1, 1) == 0"}), true, ""},
		{"failing assert", MBPPProgram("def add(a, b):\n    return a * b", []string{"assert add(1, 2) == 3"}), false, "AssertionError"},
		{"syntax error", "def f(:\n", false, "SyntaxError"},
		{"endless loop", "while True:\n    pass\n", false, "timeout"},
		{"memory hog", "x = bytearray(512 * 1024 * 1024)\n", false, "MemoryError"},
		{"network", "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\n", false, "OSError"},
		{"write outside", "open(" + pyQuote(outside) + ", 'w').write('x')\n", false, "Error"},
		{"write to /usr", "open('/usr/gominitron-sandbox-test', 'w').write('x')\n", false, "Error"},
		{"disk filler", "import os\nfor i in range(64):\n    open('f%d' % i, 'wb').write(os.urandom(8 << 20))\n", false, "Error"},
		{"no environment", "import os\nassert 'GOPATH' not in os.environ and os.getcwd() == '/sandbox'\n", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, detail, err := s.RunPython(c.program)
			if err != nil {
				t.Fatal(err)
			}
			if ok != c.pass || !strings.Contains(detail, c.detail) {
				t.Errorf("passed %v detail %q, want %v containing %q", ok, detail, c.pass, c.detail)
			}
		})
	}
	// The layout used with a bwrap older than 0.7 (no --size): a host folder.
	old := *s
	old.NoTmpfsSize = true
	if ok, detail, err := old.RunPython(cases[0].program); err != nil || !ok {
		t.Errorf("without tmpfs --size: passed %v, %q, %v", ok, detail, err)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Errorf("the sandboxed program wrote %s", outside)
	}
	if _, err := os.Stat("/usr/gominitron-sandbox-test"); err == nil {
		os.Remove("/usr/gominitron-sandbox-test")
		t.Error("the sandboxed program wrote to /usr")
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "gominitron-sandbox-*"))
	for _, l := range left {
		if st, err := os.Stat(l); err == nil && time.Since(st.ModTime()) < time.Minute {
			t.Errorf("throwaway folder %s left behind", l)
		}
	}
}

func pyQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }

// TestEvaluateGenMBPP: generated code is run against the asserts in the
// sandbox; pass@1 is the fraction that pass.
func TestEvaluateGenMBPP(t *testing.T) {
	s := newTestSandbox(t)
	task, err := ReadGenTask(taskPath("mbpp.jsonl"), FormatMBPP)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for i, d := range task.Docs {
		code := "def nothing():\n    pass\n" // fails (name not defined)
		if i%2 == 0 {
			code = strings.ReplaceAll(strings.TrimSuffix(d.Target, "\n[DONE]"), "\r\n", "\n")
		}
		answers[lastTwoLines(d.Text)] = code
	}
	g := &fakeGenerator{answers: answers}
	if _, err := EvaluateGen(g, nil, task, GenOptions{}); err == nil {
		t.Error("mbpp without a sandbox must be refused")
	}
	res, err := EvaluateGen(g, s, task, GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 3.0 / 5; res.Metrics[MetricPassAt1] != want || res.N != 5 {
		t.Errorf("pass@1 %v n %d, want %v of 5", res.Metrics[MetricPassAt1], res.N, want)
	}
	if strings.Join(g.opts.Until, "|") != "[DONE]" {
		t.Errorf("until %q", g.opts.Until)
	}
	if !strings.HasSuffix(g.prompts[0], "assert add(10, 5) == 15\n[BEGIN]\n") {
		t.Errorf("prompt %q", g.prompts[0])
	}
}
