package reproduce

import (
	"fmt"
	"math"
	"strings"

	"github.com/gominitron/gominitron/ops/prune"
)

// relErr is |a − b| / b.
func relErr(a, b int64) float64 { return math.Abs(float64(a-b)) / float64(b) }

// planString describes a plan's non-zero targets, e.g. "hidden 96, FFN 192,
// 1 head per group".
func planString(p prune.Plan) string {
	var parts []string
	if p.Hidden > 0 {
		parts = append(parts, fmt.Sprintf("hidden %d", p.Hidden))
	}
	if p.FFN > 0 {
		parts = append(parts, fmt.Sprintf("FFN %d", p.FFN))
	}
	if p.HeadsPerGroup > 0 {
		parts = append(parts, fmt.Sprintf("%d head(s) per KV group", p.HeadsPerGroup))
	}
	if p.Layers > 0 {
		parts = append(parts, fmt.Sprintf("%d layers by %s", p.Layers, p.LayerScore))
	}
	if len(parts) == 0 {
		return "no-op"
	}
	return strings.Join(parts, ", ")
}
