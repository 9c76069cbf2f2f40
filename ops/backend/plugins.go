package backend

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// fileSystem is the part of the OS the plugin search looks at (fake in tests).
type fileSystem interface {
	exists(path string) bool
	glob(pattern string) []string
	// pythonJAXPlugins asks a python3 interpreter (with a short timeout) where
	// JAX's CUDA plugins are; empty when there is no python3 or no JAX.
	pythonJAXPlugins() []string
}

type osFS struct{}

func (osFS) exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (osFS) glob(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	return m
}

func (osFS) pythonJAXPlugins() []string {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const script = `import importlib.util as u, os
for n in ("xla_cuda13", "xla_cuda12"):
    s = u.find_spec("jax_plugins." + n)
    if s and s.origin:
        print(os.path.join(os.path.dirname(s.origin), "xla_cuda_plugin.so"))`
	out, err := exec.CommandContext(ctx, py, "-c", script).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// findCUDAPlugin returns the absolute path of a CUDA PJRT plugin, or "" and a
// description of where it looked.
func findCUDAPlugin(getenv func(string) string, fs fileSystem) (path, searched string) {
	var dirs []string
	if p := getenv("PJRT_PLUGIN_LIBRARY_PATH"); p != "" {
		for _, d := range strings.Split(p, ":") {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	if home := getenv("HOME"); home != "" {
		dirs = append(dirs, filepath.Join(home, ".local/lib/go-xla"))
	}
	dirs = append(dirs, "/usr/local/lib/go-xla")
	for _, d := range dirs {
		for _, name := range []string{"pjrt_c_api_cuda_plugin.so", "xla_cuda_plugin.so"} {
			if p := filepath.Join(d, name); fs.exists(p) {
				return absPath(p), ""
			}
		}
	}
	// JAX installations: virtualenv, user site, system site-packages.
	var sites []string
	if v := getenv("VIRTUAL_ENV"); v != "" {
		sites = append(sites, filepath.Join(v, "lib/python3*/site-packages"))
	}
	if home := getenv("HOME"); home != "" {
		sites = append(sites, filepath.Join(home, ".local/lib/python3*/site-packages"))
	}
	sites = append(sites,
		"/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3*/site-packages", "/usr/lib/python3/dist-packages", "/opt/conda/lib/python3*/site-packages")
	for _, s := range sites {
		// Newest CUDA first: xla_cuda13 sorts after xla_cuda12.
		m := fs.glob(filepath.Join(s, "jax_plugins/xla_cuda*/xla_cuda_plugin.so"))
		sort.Sort(sort.Reverse(sort.StringSlice(m)))
		if len(m) > 0 {
			return absPath(m[0]), ""
		}
	}
	for _, p := range fs.pythonJAXPlugins() {
		if fs.exists(p) {
			return absPath(p), ""
		}
	}
	return "", "PJRT_PLUGIN_LIBRARY_PATH, go-xla install dirs, JAX site-packages"
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
