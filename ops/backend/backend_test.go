package backend

import (
	"io"
	"os"
	"strings"
	"testing"
)

type fakeFS struct {
	files  map[string]bool
	globs  map[string][]string
	python []string
}

func (f fakeFS) exists(p string) bool             { return f.files[p] }
func (f fakeFS) glob(pattern string) []string     { return f.globs[pattern] }
func (f fakeFS) pythonJAXPlugins() []string       { return f.python }
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestChoose(t *testing.T) {
	const driver = "/proc/driver/nvidia/version"
	const jaxSite = "/usr/local/lib/python3*/site-packages/jax_plugins/xla_cuda*/xla_cuda_plugin.so"
	cases := []struct {
		name       string
		env        map[string]string
		fs         fakeFS
		wantConfig string
		wantReason string
	}{
		{"env wins", map[string]string{EnvVar: "go"}, fakeFS{files: map[string]bool{driver: true}}, "go", "GOMLX_BACKEND is set"},
		{"env xla path", map[string]string{EnvVar: "xla:/x/p.so"}, fakeFS{}, "xla:/x/p.so", "GOMLX_BACKEND is set"},
		{"nothing found", map[string]string{"HOME": "/root"}, fakeFS{}, "go", "no CUDA PJRT plugin found"},
		{"pjrt path env", map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/opt/p"},
			fakeFS{files: map[string]bool{"/opt/p/pjrt_c_api_cuda_plugin.so": true, driver: true}},
			"xla:/opt/p/pjrt_c_api_cuda_plugin.so", "found CUDA PJRT plugin"},
		{"go-xla home dir", map[string]string{"HOME": "/home/u"},
			fakeFS{files: map[string]bool{"/home/u/.local/lib/go-xla/pjrt_c_api_cuda_plugin.so": true, driver: true}},
			"xla:/home/u/.local/lib/go-xla/pjrt_c_api_cuda_plugin.so", "found CUDA PJRT plugin"},
		{"jax site-packages, newest cuda", nil,
			fakeFS{files: map[string]bool{driver: true}, globs: map[string][]string{jaxSite: {
				"/usr/local/lib/python3.12/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so",
				"/usr/local/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so"}}},
			"xla:/usr/local/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so", "found CUDA PJRT plugin"},
		{"jax via python", nil,
			fakeFS{files: map[string]bool{driver: true, "/v/jax_plugins/xla_cuda13/xla_cuda_plugin.so": true},
				python: []string{"/v/jax_plugins/xla_cuda13/xla_cuda_plugin.so"}},
			"xla:/v/jax_plugins/xla_cuda13/xla_cuda_plugin.so", "found CUDA PJRT plugin"},
		{"plugin but no GPU", map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/opt/p"},
			fakeFS{files: map[string]bool{"/opt/p/pjrt_c_api_cuda_plugin.so": true}},
			"go", "no NVIDIA driver"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Choose(env(c.env), c.fs)
			if got.Config != c.wantConfig || !strings.Contains(got.Reason, c.wantReason) {
				t.Errorf("Choose = %+v, want config %q and reason containing %q", got, c.wantConfig, c.wantReason)
			}
		})
	}
}

func TestOpenGo(t *testing.T) {
	b, line, err := open(Choice{Config: "go", Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() == "" || !strings.HasPrefix(line, "gominitron: backend go") {
		t.Errorf("line = %q", line)
	}
}

func TestOpenFallsBackWhenFoundPluginFails(t *testing.T) {
	if !xlaCompiledIn {
		t.Skip("built without XLA")
	}
	b, line, err := open(Choice{Config: "xla:/nonexistent/xla_cuda_plugin.so", Reason: "found CUDA PJRT plugin /nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "fell back") || !strings.Contains(line, "backend go") {
		t.Errorf("line = %q, want a fall-back message", line)
	}
	_ = b
}

func TestOpenEnvFailureIsAnError(t *testing.T) {
	if _, _, err := open(Choice{Config: "nosuchbackend", Reason: EnvVar + " is set"}); err == nil ||
		!strings.Contains(err.Error(), "not available") {
		t.Errorf("err = %v, want 'not available'", err)
	}
	if xlaCompiledIn {
		if _, _, err := open(Choice{Config: "xla:/nonexistent.so", Reason: EnvVar + " is set"}); err == nil {
			t.Error("want an error for a broken GOMLX_BACKEND plugin")
		}
	}
}

// TestGoConfig: a Go backend configuration gets ops_sequential (the parallel
// op scheduler can deadlock in GoMLX v0.28.8) unless it names an op
// scheduling, and creation_order (memory: see GoConfig) unless it names a
// node schedule.
func TestGoConfig(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"go", "go:ops_sequential,creation_order"},
		{"go:", "go:ops_sequential,creation_order"},
		{"go:parallelism=2", "go:ops_sequential,creation_order,parallelism=2"},
		{"go:ops_sequential,parallelism=2", "go:creation_order,ops_sequential,parallelism=2"},
		{"go:parallelism=2,ops_parallel", "go:creation_order,parallelism=2,ops_parallel"},
		{"go:dependency_order", "go:ops_sequential,dependency_order"},
		{"go:ops_parallel,creation_order", "go:ops_parallel,creation_order"},
	} {
		if got := goConfig(c.in); got != c.want {
			t.Errorf("goConfig(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOpenGoParallelismQuiet: "go:parallelism=N" is applied, and the Go
// backend's "parallelism set to N" line does not reach stdout (where the
// CLI writes JSON).
func TestOpenGoParallelismQuiet(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	b, line, err := open(Choice{Config: "go:parallelism=3", Reason: "test"})
	os.Stdout = stdout
	w.Close()
	printed, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if len(printed) != 0 {
		t.Errorf("opening the backend printed %q on stdout", printed)
	}
	if !strings.Contains(line, "parallelism=3") {
		t.Errorf("banner %q does not show parallelism=3", line)
	}
}
