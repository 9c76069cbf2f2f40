package importance

import (
	"fmt"
	"math"

	"github.com/gominitron/gominitron/ops/llm"
)

func nonFinite(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }

// checkFinite reports the first non-finite activation score in forward
// order — layer by layer, attention heads before the MLP, then the
// hidden-channel scores — so the error names the first layer whose
// activations went NaN or Inf (every later layer inherits it).
func (a *AxisScores) checkFinite() error {
	for l := range a.FFN {
		for _, axis := range []struct {
			name string
			v    []float64
		}{{"attention head", a.Heads[l]}, {"ffn neuron", a.FFN[l]}, {"block importance", a.BI[l : l+1]}} {
			for i, x := range axis.v {
				if nonFinite(x) {
					return fmt.Errorf("importance: activation pass: layer %d (the first non-finite one): %s score %d is %g: %w", l, axis.name, i, x, llm.ErrNonFinite)
				}
			}
		}
	}
	for i, x := range a.Hidden {
		if nonFinite(x) {
			return fmt.Errorf("importance: activation pass: hidden-channel score %d is %g: %w", i, x, llm.ErrNonFinite)
		}
	}
	return nil
}

// checkFiniteLosses reports the first non-finite loss of an ablation sweep:
// what names it (e.g. "drop-one lm_loss without layer"), i its index.
func checkFiniteLosses(what string, losses []float64) error {
	for i, x := range losses {
		if nonFinite(x) {
			return fmt.Errorf("importance: %s %d is %g: %w", what, i, x, llm.ErrNonFinite)
		}
	}
	return nil
}
