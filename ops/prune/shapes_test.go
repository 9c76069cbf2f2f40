package prune

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// handParams counts a untied Llama's parameters from its sizes (embedding and
// LM head V·H, per layer q/k/v/o + gated MLP + 2 norms, final norm):
// written out independently of Plan.Estimate.
func handParams(vocab, hidden, ffn, layers, heads, kvHeads, headDim int) int64 {
	h, f, hd := int64(hidden), int64(ffn), int64(headDim)
	attn := h*int64(heads)*hd + 2*h*int64(kvHeads)*hd + int64(heads)*hd*h
	layer := attn + 3*h*f + 2*h
	return 2*int64(vocab)*h + int64(layers)*layer + h
}

func TestPlanParams(t *testing.T) {
	cfg := testConfig() // V 1000, H 768, F 3072, 8 layers, 12 heads / 4 KV, hd 64
	cases := []struct {
		name string
		plan Plan
		want int64
	}{
		{"no-op", Plan{}, handParams(1000, 768, 3072, 8, 12, 4, 64)},
		{"width", Plan{Hidden: 512, FFN: 1536, HeadsPerGroup: 2}, handParams(1000, 512, 1536, 8, 8, 4, 64)},
		{"depth", DepthPlan(5), handParams(1000, 768, 3072, 5, 12, 4, 64)},
	}
	for _, tc := range cases {
		got, err := PlanParams(cfg, tc.plan)
		if err != nil || got != tc.want {
			t.Errorf("%s: PlanParams = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}

func TestWidthPlan(t *testing.T) {
	cfg := testConfig()
	full := handParams(1000, 768, 3072, 8, 12, 4, 64)
	hs, fs := WidthGrid(cfg)
	if hs != 48 || fs != 96 {
		t.Fatalf("WidthGrid = %d, %d; want 48, 96 (768/16, 3072/32)", hs, fs)
	}
	for _, tc := range []struct {
		name          string
		target        int64
		headsPerGroup int
	}{{"full", full, 0}, {"half", full / 2, 0}, {"half, 1 head per group", full / 2, 1}, {"quarter", full / 4, 0}} {
		p, n, err := WidthPlan(cfg, tc.target, tc.headsPerGroup)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		heads := 12
		if tc.headsPerGroup > 0 {
			heads = 4 * tc.headsPerGroup
		}
		if want := handParams(1000, p.Hidden, p.FFN, 8, heads, 4, 64); n != want {
			t.Errorf("%s: WidthPlan count %d, hand count %d for %+v", tc.name, n, want, p)
		}
		if p.Hidden%hs != 0 || p.FFN%fs != 0 || p.Layers != 0 || p.HeadsPerGroup != tc.headsPerGroup {
			t.Errorf("%s: plan %+v off the grid or not width-only", tc.name, p)
		}
		// No grid neighbour at the same hidden size is closer to the target.
		for _, f := range []int{p.FFN - fs, p.FFN + fs} {
			if f < fs || f > cfg.FFN {
				continue
			}
			if m := handParams(1000, p.Hidden, f, 8, heads, 4, 64); math.Abs(float64(m-tc.target)) < math.Abs(float64(n-tc.target)) {
				t.Errorf("%s: FFN %d (%d params) is closer to %d than the chosen %+v (%d)", tc.name, f, m, tc.target, p, n)
			}
		}
	}
	if p, n, _ := WidthPlan(cfg, full, 0); p.Hidden != 768 || p.FFN != 3072 || n != full {
		t.Errorf("WidthPlan at the full count = %+v (%d), want hidden 768, FFN 3072", p, n)
	}
}

func TestEnumerateShapes(t *testing.T) {
	cfg := testConfig()
	full := handParams(1000, 768, 3072, 8, 12, 4, 64)
	const tol = 0.05
	budget := full / 2
	all, err := EnumerateShapes(cfg, budget, tol)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, sp := range all {
		layers := 8
		if sp.Plan.Layers > 0 {
			layers = sp.Plan.Layers
		}
		want := handParams(1000, sp.Plan.Hidden, sp.Plan.FFN, layers, 4*sp.Plan.HeadsPerGroup, 4, 64)
		if sp.Params != want {
			t.Errorf("%s: params %d, hand count %d", sp.Name, sp.Params, want)
		}
		if math.Abs(float64(want-budget)) > tol*float64(budget) {
			t.Errorf("%s: %d params outside ±5%% of %d", sp.Name, want, budget)
		}
		if layers < 4 {
			t.Errorf("%s: fewer than half the layers", sp.Name)
		}
		if names[sp.Name] {
			t.Errorf("duplicate shape %s", sp.Name)
		}
		names[sp.Name] = true
	}
	// A shape inside the budget by the hand count must be listed: 8 layers,
	// 3 heads per group, hidden 480, FFN ~ chosen below.
	found := false
	for f := 96; f <= 3072; f += 96 {
		n := handParams(1000, 480, f, 8, 12, 4, 64)
		if math.Abs(float64(n-budget)) <= tol*float64(budget) {
			found = true
			name := "L8 q12 h480 f" + strconv.Itoa(f)
			if !names[name] {
				t.Errorf("%s (%d params, within the budget) not enumerated", name, n)
			}
		}
	}
	if !found {
		t.Fatal("test set-up: no hidden-480 shape within the budget")
	}
	if _, err := EnumerateShapes(cfg, 10, tol); err == nil || !strings.Contains(err.Error(), "no shape") {
		t.Errorf("budget of 10 parameters: err = %v, want 'no shape'", err)
	}
	if _, err := EnumerateShapes(cfg, 0, tol); err == nil {
		t.Error("zero budget: no error")
	}
}
