package kernel

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"strings"

	"github.com/gomlx/compute"

	"github.com/gominitron/gominitron/ops/backend"
)

// ScaleEnv is the environment variable that sizes every notebook.
const ScaleEnv = "GOMINITRON_SCALE"

// Scale returns the notebook scale from GOMINITRON_SCALE: "smoke" (seconds,
// what CI runs), "cpu" (minutes on a laptop; the default) or "gpu" (a real
// run on a GPU).
func Scale() string {
	switch s := strings.ToLower(strings.TrimSpace(os.Getenv(ScaleEnv))); s {
	case "smoke", "cpu", "gpu":
		return s
	default:
		return "cpu"
	}
}

// Pick returns the value for the current Scale: kernel.Pick(8, 256, 4096).
func Pick[T any](smoke, cpu, gpu T) T {
	switch Scale() {
	case "smoke":
		return smoke
	case "gpu":
		return gpu
	}
	return cpu
}

// Banner creates (or returns) the process-wide backend and displays one line
// saying which backend and device it is and the notebook scale.
func Banner() (compute.Backend, error) {
	var buf bytes.Buffer
	old := backend.Log
	backend.Log = &buf
	b, err := backend.New()
	backend.Log = old
	if err != nil {
		return nil, err
	}
	line := strings.TrimSpace(buf.String())
	if line == "" { // created earlier: describe it again
		line = fmt.Sprintf("gominitron: backend %s (%s)", b.Name(), firstLine(b.Description()))
		if w := backend.SIMDWarning(b); w != "" {
			line += "\n" + w
		}
	}
	line += fmt.Sprintf(" — scale %s (%s)", Scale(), ScaleEnv)
	if ui.notebook() {
		ui.html(`<div style="font-family:monospace;padding:4px;border-left:4px solid #4a90d9;background:#f4f8fc">` +
			html.EscapeString(line) + "</div>")
	} else {
		fmt.Fprintln(Out, line)
	}
	return b, nil
}

// MustBanner is Banner that panics on error.
func MustBanner() compute.Backend { return Must(Banner()) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
