package nbtools

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ciInstallScript is the script that installs the notebook kernel in CI and
// in the Docker image alike.
const ciInstallScript = "kernel/install.sh"

// repoScript matches repository paths of scripts in a command line.
var repoScript = regexp.MustCompile(`(?:^|[\s;&|/])((?:kernel|scripts|\.ci)/[A-Za-z0-9_./-]+)`)

type dockerInstruction struct {
	cmd  string // lower case: "from", "run", …
	args string
	line int
}

func parseDockerfile(t *testing.T, path string) []dockerInstruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, w := range res.Warnings {
		t.Errorf("%s: parser warning: %s", path, w.Short)
	}
	var out []dockerInstruction
	for _, n := range res.AST.Children {
		var args []string
		for a := n.Next; a != nil; a = a.Next {
			args = append(args, a.Value)
		}
		out = append(out, dockerInstruction{cmd: strings.ToLower(n.Value), args: strings.Join(args, " "), line: n.StartLine})
	}
	return out
}

// scriptsIn returns the repository scripts a command line runs.
func scriptsIn(cmd string) []string {
	var out []string
	for _, m := range repoScript.FindAllStringSubmatch(cmd, -1) {
		out = append(out, strings.TrimPrefix(m[1], "/opt/gominitron/"))
	}
	return out
}

func TestDockerfile(t *testing.T) {
	const root = "../.."
	instrs := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	var (
		from        []string
		runScripts  []string
		cmdScripts  []string
		exposesPort bool
	)
	for _, in := range instrs {
		switch in.cmd {
		case "from":
			from = append(from, in.args)
		case "run":
			runScripts = append(runScripts, scriptsIn(in.args)...)
		case "cmd", "entrypoint":
			cmdScripts = append(cmdScripts, scriptsIn(strings.ReplaceAll(in.args, "/opt/gominitron/", " "))...)
		case "expose":
			exposesPort = strings.Contains(in.args, "8888")
		}
	}
	if len(from) != 1 || !strings.HasPrefix(from[0], "nvidia/cuda:") || !strings.Contains(from[0], "runtime") {
		t.Errorf("FROM %v: want one CUDA runtime base image", from)
	}
	if len(runScripts) != 1 || runScripts[0] != ciInstallScript {
		t.Errorf("the Dockerfile RUNs repository scripts %v, want exactly [%s] (the script CI runs)", runScripts, ciInstallScript)
	}
	if len(cmdScripts) != 1 || cmdScripts[0] != "kernel/jupyter.sh" {
		t.Errorf("CMD runs %v, want kernel/jupyter.sh", cmdScripts)
	}
	if !exposesPort {
		t.Error("the Dockerfile does not EXPOSE Jupyter's port 8888")
	}
	for _, s := range append(runScripts, cmdScripts...) {
		info, err := os.Stat(filepath.Join(root, s))
		if err != nil {
			t.Errorf("script %s: %v", s, err)
			continue
		}
		if info.Mode()&0o111 == 0 {
			t.Errorf("script %s is not executable", s)
		}
	}
	// go.mod's local replacements (third_party/compute) must be in the image before
	// `go mod download`, which needs them.
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(gomod), "\n") {
		_, target, ok := strings.Cut(line, "=> ")
		if !strings.HasPrefix(strings.TrimSpace(line), "replace") || !ok || !strings.HasPrefix(target, "./") {
			continue
		}
		dir := strings.TrimPrefix(strings.Fields(target)[0], "./")
		copied := false
		for _, in := range instrs {
			if fields := strings.Fields(in.args); in.cmd == "copy" && len(fields) > 1 {
				src := strings.TrimSuffix(fields[0], "/")
				if src == "." || src == dir || strings.HasPrefix(dir, src+"/") {
					copied = true
				}
			}
			if in.cmd == "run" && strings.Contains(in.args, "go mod download") {
				if !copied {
					t.Errorf("line %d runs go mod download before COPYing %s (go.mod replaces a module with it)", in.line, dir)
				}
				break
			}
		}
	}
	// Token authentication must stay on.
	for _, in := range instrs {
		if strings.Contains(in.args, "token=''") || strings.Contains(in.args, `token=""`) || strings.Contains(in.args, "NotebookApp.token=") {
			t.Errorf("line %d disables Jupyter's token authentication: %s", in.line, in.args)
		}
	}
	// The same install script must be what the notebook runner (and so CI) uses.
	for _, p := range []string{"scripts/notebooks.sh", "kernel/jupyter.sh"} {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), ciInstallScript) {
			t.Errorf("%s does not use %s", p, ciInstallScript)
		}
	}
	// Once CI installs the kernel (GOMINITRON_REQUIRE_JUPYTER=1), its entry
	// point must run the same script, itself or through a script it runs
	// (.ci/run → scripts/test.sh → kernel/install.sh).
	if os.Getenv("GOMINITRON_REQUIRE_JUPYTER") == "1" {
		data, err := os.ReadFile(filepath.Join(root, ".ci/run"))
		if err != nil {
			t.Fatal(err)
		}
		found := strings.Contains(string(data), ciInstallScript)
		for _, s := range scriptsIn(string(data)) {
			if sub, err := os.ReadFile(filepath.Join(root, s)); err == nil && strings.Contains(string(sub), ciInstallScript) {
				found = true
			}
		}
		if !found {
			t.Errorf(".ci/run does not run %s (directly or through a script it runs)", ciInstallScript)
		}
	}
}

func TestScriptsIn(t *testing.T) {
	cases := map[string][]string{
		"kernel/install.sh":                           {"kernel/install.sh"},
		"cd x && ./kernel/install.sh --register-only": {"kernel/install.sh"},
		"apt-get install -y curl":                     nil,
		"bash scripts/notebooks.sh; .ci/run":          {"scripts/notebooks.sh", ".ci/run"},
	}
	for in, want := range cases {
		if got := scriptsIn(in); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("scriptsIn(%q) = %v, want %v", in, got, want)
		}
	}
}
