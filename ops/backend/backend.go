// Package backend chooses the GoMLX compute backend for every gominitron
// entry point (CLI, notebooks, tests) and says which one in one line.
//
// Order of choice:
//
//  1. GOMLX_BACKEND, when set (the CLI's --backend flag sets it), is used as
//     given — e.g. "go", or "xla:/abs/path/xla_cuda_plugin.so".
//  2. Otherwise a CUDA PJRT plugin is searched where one is installed:
//     PJRT_PLUGIN_LIBRARY_PATH directories, go-xla's install directories
//     (~/.local/lib/go-xla, /usr/local/lib/go-xla), and a JAX installation's
//     jax_plugins/xla_cuda*/xla_cuda_plugin.so in the usual site-packages
//     directories. It is used only when an NVIDIA driver is present.
//  3. Otherwise the pure-Go backend.
//
// Nothing is ever downloaded: go-xla's auto-installer is not linked in.
// A plugin that fails to load falls back to the Go backend, with the reason
// in the printed line.
package backend

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the pure-Go backend, registered as "go"
)

// EnvVar is the environment variable GoMLX reads for its backend configuration.
const EnvVar = compute.ConfigEnvVar // "GOMLX_BACKEND"

// Choice is a decision of which backend configuration to use and why.
type Choice struct {
	Config string // GoMLX configuration string, e.g. "go" or "xla:/path/plugin.so"
	Reason string // human-readable reason, e.g. "GOMLX_BACKEND is set"
}

var (
	mu      sync.Mutex
	current compute.Backend
	// Log is where the one-line backend banner goes (stderr by default, so
	// that CLI JSON on stdout stays clean).
	Log io.Writer = os.Stderr
)

// New returns the process-wide backend, creating it on the first call and
// printing one line saying which backend/device was chosen and why.
func New() (compute.Backend, error) {
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		return current, nil
	}
	b, line, err := open(Choose(os.Getenv, osFS{}))
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(Log, line)
	if w := SIMDWarning(b); w != "" {
		fmt.Fprintln(Log, w)
	}
	current = b
	return b, nil
}

// Must is New that panics on error, for notebooks and tests.
func Must() compute.Backend {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}

// Choose decides the backend configuration from the environment and the
// file system, without loading anything.
func Choose(getenv func(string) string, fs fileSystem) Choice {
	if cfg := strings.TrimSpace(getenv(EnvVar)); cfg != "" {
		return Choice{Config: cfg, Reason: EnvVar + " is set"}
	}
	if !xlaCompiledIn {
		return Choice{Config: "go", Reason: "this binary was built without XLA (noxla tag)"}
	}
	plugin, where := findCUDAPlugin(getenv, fs)
	if plugin == "" {
		return Choice{Config: "go", Reason: "no CUDA PJRT plugin found (searched " + where + ")"}
	}
	if !fs.exists("/proc/driver/nvidia/version") && !fs.exists("/dev/nvidia0") {
		return Choice{Config: "go", Reason: "CUDA plugin " + plugin + " found but no NVIDIA driver/GPU on this machine"}
	}
	return Choice{Config: "xla:" + plugin, Reason: "found CUDA PJRT plugin " + plugin}
}

// GoConfig is the configuration a plain "go" backend is opened with.
//
// ops_sequential: with ops executed in parallel, GoMLX v0.28.8's Go backend
// can deadlock (several matmuls saturating the same worker pool, seen within
// minutes of training on a 2-core machine); sequential op scheduling avoids
// it, and matmuls still use all cores (no measurable slowdown).
//
// creation_order: the backend's default schedule runs the nodes with the
// longest path to an output first, which defers every short branch to the
// end of the graph: a per-layer statistic (importance's activation taps), a
// layer's hidden-state output or the next chunk's weight conversion waits,
// and what it reads stays alive meanwhile. Creation order is the order the
// model code builds the graph (layer by layer), so each buffer is released
// as soon as its layer is done. Measured on a random Qwen2.5-0.5B-shape bf16
// model (0.97 GB resident after loading), importance's activation pass over
// 4×256 tokens peaked at 1891 MB with the default schedule and 1144 MB in
// creation order (2×128: 1239 → 1050 MB), in the same time.
const GoConfig = "go:ops_sequential,creation_order"

// goConfig completes a Go backend configuration with GoConfig's op
// scheduling (ops_sequential) and node schedule (creation_order), each
// unless the configuration names one itself: "go:parallelism=2" opened as
// given hung at 0 % CPU in 6 of 12 benchmark runs here.
func goConfig(config string) string {
	_, opts, _ := strings.Cut(config, ":")
	var named []string
	for _, o := range strings.Split(opts, ",") {
		if o != "" {
			named = append(named, o)
		}
	}
	var add []string
	if !slices.Contains(named, "ops_sequential") && !slices.Contains(named, "ops_parallel") {
		add = append(add, "ops_sequential")
	}
	if !slices.Contains(named, "creation_order") && !slices.Contains(named, "dependency_order") {
		add = append(add, "creation_order")
	}
	if len(add) == 0 {
		return config
	}
	return "go:" + strings.Join(append(add, named...), ",")
}

// newQuietly is compute.NewWithConfig with the process's stdout closed to
// the backend while it starts: the Go backend prints "Go backend:
// parallelism set to N" there, which would corrupt the CLI's JSON output.
func newQuietly(config string) (compute.Backend, error) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return compute.NewWithConfig(config)
	}
	defer devNull.Close()
	stdout := os.Stdout
	os.Stdout = devNull
	defer func() { os.Stdout = stdout }()
	return compute.NewWithConfig(config)
}

// open creates the backend for a choice, falling back to the Go backend when
// an automatically found plugin fails to load. It returns the banner line.
func open(c Choice) (compute.Backend, string, error) {
	name, _, _ := strings.Cut(c.Config, ":")
	if name == "go" {
		c.Config = goConfig(c.Config)
	}
	if !isRegistered(name) {
		return nil, "", fmt.Errorf("backend %q (from %s) is not available in this binary; available: %s",
			c.Config, c.Reason, strings.Join(compute.List(), ", "))
	}
	if name == "xla" && os.Getenv("GOPJRT_CUDA_CHECKS") == "" && strings.Contains(c.Config, "cuda") {
		// go-xla otherwise sets a wrong --xla_gpu_cuda_data_dir for JAX's plugin.
		os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
	b, err := newQuietly(c.Config)
	if err != nil {
		if c.Reason == EnvVar+" is set" {
			return nil, "", fmt.Errorf("backend %q from %s failed to start: %w", c.Config, EnvVar, err)
		}
		gb, gerr := compute.NewWithConfig(GoConfig)
		if gerr != nil {
			return nil, "", gerr
		}
		return gb, fmt.Sprintf("gominitron: backend go (%s) — fell back: %s failed to load: %v", describe(gb), c.Config, firstLine(err)), nil
	}
	return b, fmt.Sprintf("gominitron: backend %s (%s) — %s", name, describe(b), c.Reason), nil
}

func isRegistered(name string) bool {
	for _, n := range compute.List() {
		if n == name {
			return true
		}
	}
	return false
}

func describe(b compute.Backend) string {
	d := b.Description()
	if b.NumDevices() > 0 {
		if dd := b.DeviceDescription(0); dd != "" && dd != d {
			d += "; device 0: " + dd
		}
	}
	return firstLine(d)
}

func firstLine(v any) string {
	s := fmt.Sprint(v)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
