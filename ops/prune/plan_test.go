package prune

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// testConfig is a small GQA model: 8 layers, hidden 768, 12 query heads in 4
// KV groups (3 per group), head_dim 64, ffn 3072.
func testConfig() *llm.Config {
	return &llm.Config{
		ModelType: "llama", Architectures: []string{"LlamaForCausalLM"},
		VocabSize: 1000, Hidden: 768, FFN: 3072, NumLayers: 8,
		NumHeads: 12, NumKVHeads: 4, HeadDim: 64, MaxPositions: 512,
		RMSNormEps: 1e-5, HiddenAct: "silu", RopeTheta: 1e4,
		Rope: llm.RopeScaling{Type: "default"}, TorchDType: "float32",
	}
}

// testScores are ramp scores for testConfig (higher index = more important,
// except where a test overrides them).
func testScores(cfg *llm.Config) *results.Importance {
	ramp := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)
		}
		return v
	}
	imp := &results.Importance{Hidden: ramp(cfg.Hidden), BI: ramp(cfg.NumLayers), DropOneLMLoss: ramp(cfg.NumLayers)}
	for range cfg.NumLayers {
		imp.FFN = append(imp.FFN, ramp(cfg.FFN))
		imp.Heads = append(imp.Heads, ramp(cfg.NumHeads))
	}
	return imp
}

func TestPlanValidation(t *testing.T) {
	cfg := testConfig()
	withBlock := testScores(cfg)
	withBlock.BlockSize = 2
	withBlock.BlockLMLoss = []float64{5, 4, 3, 2, 1, 2, 3}
	noFFN := testScores(cfg)
	noFFN.FFN = nil
	shortHidden := testScores(cfg)
	shortHidden.Hidden = shortHidden.Hidden[:700]
	cases := []struct {
		name    string
		plan    Plan
		scores  *results.Importance
		wantErr string // substring; "" = valid
	}{
		{"no-op", Plan{}, nil, ""},
		{"all targets", Plan{Hidden: 512, FFN: 2048, HeadsPerGroup: 2, Layers: 6}, testScores(cfg), ""},
		{"targets equal current need no scores", Plan{Hidden: 768, FFN: 3072, HeadsPerGroup: 3, Layers: 8}, nil, ""},
		{"hidden too big", Plan{Hidden: 900}, testScores(cfg), "hidden 900 > current 768 (valid 1..768)"},
		{"hidden negative", Plan{Hidden: -4}, testScores(cfg), "hidden -4 < 1 (valid 1..768)"},
		{"ffn too big", Plan{FFN: 4000}, testScores(cfg), "ffn 4000 > current 3072 (valid 1..3072)"},
		{"heads too many", Plan{HeadsPerGroup: 4}, testScores(cfg), "heads-per-group 4 > current 3 (valid 1..3)"},
		{"heads negative", Plan{HeadsPerGroup: -1}, testScores(cfg), "heads-per-group -1 < 1 (valid 1..3)"},
		{"layers too many", Plan{Layers: 9}, testScores(cfg), "layers 9 > current 8 (valid 1..8)"},
		{"layers negative", Plan{Layers: -2}, testScores(cfg), "layers -2 < 1 (valid 1..8)"},
		{"drop-layers out of range", Plan{DropLayers: []int{3, 9}}, nil, "drop-layers 9 out of range 0..7"},
		{"drop-layers negative", Plan{DropLayers: []int{-1}}, nil, "drop-layers -1 out of range 0..7"},
		{"drop-layers duplicate", Plan{DropLayers: []int{3, 3}}, nil, "drop-layers lists layer 3 twice"},
		{"drop-layers all", Plan{DropLayers: []int{0, 1, 2, 3, 4, 5, 6, 7}}, nil, "removes all 8 layers"},
		{"drop-layers needs no scores", Plan{DropLayers: []int{3, 4, 5}}, nil, ""},
		{"exclusive depth options", Plan{Layers: 4, DropBlock: 2}, testScores(cfg), "exclusive"},
		{"exclusive drop options", Plan{DropLayers: []int{1}, DropBlock: 2}, testScores(cfg), "exclusive"},
		{"layers consistent with drop-layers (a resolved plan)", Plan{Layers: 6, DropLayers: []int{1, 2}}, nil, ""},
		{"drop-block too big", Plan{DropBlock: 8}, withBlock, "drop-block 8 out of range 1..7"},
		{"drop-block without block scores", Plan{DropBlock: 2}, testScores(cfg), "needs block_lm_loss in scores"},
		{"drop-block without any scores", Plan{DropBlock: 2}, nil, "needs block_lm_loss in scores"},
		{"drop-block other size", Plan{DropBlock: 3}, withBlock, "drop-block 3 but scores have block_lm_loss for blocks of 2"},
		{"drop-block ok", Plan{DropBlock: 2}, withBlock, ""},
		{"drop-block other metric missing", Plan{DropBlock: 2, BlockScore: BlockScoreOther}, withBlock, "needs block_scores"},
		{"unknown layer score", Plan{Layers: 4, LayerScore: "ppl"}, testScores(cfg), `layer-score "ppl" unknown`},
		{"unknown block score", Plan{DropBlock: 2, BlockScore: "acc"}, withBlock, `block-score "acc" unknown`},
		{"round negative", Plan{FFN: 1000, Round: -64}, testScores(cfg), "round -64 < 0"},
		{"round bigger than axis", Plan{Hidden: 700, Round: 1024}, testScores(cfg), "round 1024 > current hidden 768"},
		{"ffn needs scores", Plan{FFN: 2048}, nil, "ffn 2048 < 3072 needs importance scores"},
		{"ffn scores missing", Plan{FFN: 2048}, noFFN, "ffn has 0 layers, model has 8"},
		{"hidden scores of another model", Plan{Hidden: 512}, shortHidden, "hidden has 700 entries, model has 768"},
		{"layers need scores", Plan{Layers: 6}, nil, "layers 6 < 8 needs importance scores"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.plan.Validate(cfg, c.scores)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && err == nil:
				t.Fatalf("no error, want %q", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("error %q does not contain %q", err, c.wantErr)
			}
		})
	}
}

func TestResolveRounding(t *testing.T) {
	cfg := testConfig()
	cases := []struct {
		plan            Plan
		wantH, wantF    int
		wantHPG, wantNL int
	}{
		{Plan{}, 768, 3072, 3, 8},
		{Plan{Hidden: 500, FFN: 1000, Round: 64}, 512, 1024, 3, 8}, // nearest multiple
		{Plan{Hidden: 20, FFN: 3070, Round: 64}, 64, 3072, 3, 8},   // at least one multiple
		{Plan{Hidden: 760, Round: 512}, 512, 3072, 3, 8},           // never above current
		{Plan{FFN: 1000, Round: 1}, 768, 1000, 3, 8},               // round 1 = none
		{Plan{HeadsPerGroup: 1, DropLayers: []int{5, 1}}, 768, 3072, 1, 6},
		{Plan{DropBlock: 3}, 768, 3072, 3, 5},
		{Plan{Layers: 4}, 768, 3072, 3, 4},
	}
	for _, c := range cases {
		r, err := c.plan.Resolve(cfg)
		if err != nil {
			t.Fatalf("%+v: %v", c.plan, err)
		}
		if r.Hidden != c.wantH || r.FFN != c.wantF || r.HeadsPerGroup != c.wantHPG || r.Layers != c.wantNL {
			t.Errorf("%+v resolved to hidden %d ffn %d hpg %d layers %d, want %d %d %d %d",
				c.plan, r.Hidden, r.FFN, r.HeadsPerGroup, r.Layers, c.wantH, c.wantF, c.wantHPG, c.wantNL)
		}
	}
	// Resolving is idempotent: a resolved plan (as pruning.json records it)
	// resolves to itself.
	for _, c := range cases {
		r, _ := c.plan.Resolve(cfg)
		rr, err := r.Resolve(cfg)
		if err != nil || !reflect.DeepEqual(r, rr) {
			t.Errorf("re-resolving %+v: %+v, %v", r, rr, err)
		}
	}
	// Resolve sorts its own copy of DropLayers.
	p := Plan{DropLayers: []int{5, 1}}
	r, _ := p.Resolve(cfg)
	if !slices.Equal(r.DropLayers, []int{1, 5}) || !slices.Equal(p.DropLayers, []int{5, 1}) {
		t.Errorf("DropLayers: resolved %v, original %v", r.DropLayers, p.DropLayers)
	}
}

func TestTargetConfig(t *testing.T) {
	cfg := testConfig()
	cfg.HeadDim = 0 // implicit in the source: must become explicit
	cfg.Extra = map[string]any{"layer_types": []any{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"}, "foo": 1.0}
	bos := 1
	cfg.BOSTokenID = &bos
	got, err := Plan{Hidden: 512, FFN: 2048, HeadsPerGroup: 2, Layers: 6}.TargetConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hidden != 512 || got.FFN != 2048 || got.NumHeads != 8 || got.NumKVHeads != 4 || got.HeadDim != 64 || got.NumLayers != 6 {
		t.Errorf("target config %+v", got)
	}
	if lt := got.Extra["layer_types"].([]any); len(lt) != 6 {
		t.Errorf("layer_types %v, want 6 entries", lt)
	}
	if cfg.Hidden != 768 || cfg.HeadDim != 0 || len(cfg.Extra["layer_types"].([]any)) != 8 {
		t.Errorf("source config modified: %+v", cfg)
	}
	*got.BOSTokenID = 7
	if *cfg.BOSTokenID != 1 {
		t.Errorf("BOS token id shared between source and target")
	}
	// Per-layer extras follow the kept layers.
	r, _ := Plan{DropLayers: []int{0, 3}}.Resolve(cfg)
	c := targetConfig(cfg, r, []int{1, 2, 4, 5, 6, 7})
	if lt := c.Extra["layer_types"].([]any); !slices.Equal(lt, []any{"a1", "a2", "a4", "a5", "a6", "a7"}) {
		t.Errorf("layer_types after dropping 0 and 3: %v", lt)
	}
}

func TestParseLayerList(t *testing.T) {
	cases := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"3,4,5", []int{3, 4, 5}, false},
		{" 7 , 0", []int{7, 0}, false},
		{"1,,2", nil, true},
		{"a", nil, true},
		{"", nil, true},
	}
	for _, c := range cases {
		got, err := ParseLayerList(c.in)
		if (err != nil) != c.wantErr || !slices.Equal(got, c.want) {
			t.Errorf("ParseLayerList(%q) = %v, %v", c.in, got, err)
		}
	}
}

// TestKeptDroppedLayers: the dropped layers are the complement of the kept
// ones in 0..n-1, ascending, nil when all are kept.
func TestKeptDroppedLayers(t *testing.T) {
	for _, tc := range []struct {
		kept []int
		n    int
		want []int
	}{
		{[]int{0, 1, 2, 3}, 4, nil},
		{[]int{0, 3}, 4, []int{1, 2}},
		{[]int{2}, 4, []int{0, 1, 3}},
		{nil, 2, []int{0, 1}},
	} {
		if got := (&Kept{Layers: tc.kept}).DroppedLayers(tc.n); !slices.Equal(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("Kept{Layers: %v}.DroppedLayers(%d) = %v, want %v", tc.kept, tc.n, got, tc.want)
		}
	}
}
