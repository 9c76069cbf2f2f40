package prune

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

func TestTopK(t *testing.T) {
	cases := []struct {
		scores []float64
		k      int
		want   []int
	}{
		{[]float64{3, 1, 2}, 2, []int{0, 2}},
		{[]float64{1, 1, 1, 1}, 2, []int{0, 1}}, // ties → lower index
		{[]float64{0, 5, 5, 1}, 1, []int{1}},
		{[]float64{-1, -3, -2}, 3, []int{0, 1, 2}},
	}
	for _, c := range cases {
		if got := topK(c.scores, c.k); !slices.Equal(got, c.want) {
			t.Errorf("topK(%v, %d) = %v, want %v", c.scores, c.k, got, c.want)
		}
	}
	// GQA: 6 heads in 2 groups of 3; each group keeps its own 2 best heads.
	got := topHeadsPerGroup([]float64{9, 1, 5, 0, 7, 8}, 2, 2)
	if want := []int{0, 2, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("topHeadsPerGroup = %v, want %v", got, want)
	}
}

func TestSelect(t *testing.T) {
	cfg := testConfig()
	imp := testScores(cfg)
	imp.DropOneLMLoss = []float64{9, 1, 8, 2, 7, 3, 6, 4} // least important: 1, 3, 5, 7
	imp.BI = []float64{1, 9, 2, 8, 3, 7, 4, 6}            // least important: 0, 2, 4, 6
	imp.BlockSize = 3
	imp.BlockLMLoss = []float64{5, 4, 3, 3.5, 6, 7} // best start 2
	imp.BlockScores = &results.BlockScores{BlockSize: 2, HigherIsBetter: true, Values: []float64{0.1, 0.2, 0.3, 0.6, 0.5, 0.2, 0.1}}
	imp.FFN[2][0] = 1e9 // neuron 0 of layer 2 must survive
	cases := []struct {
		plan       Plan
		wantLayers []int
	}{
		{Plan{Layers: 4}, []int{0, 2, 4, 6}},
		{Plan{Layers: 4, LayerScore: LayerScoreBI}, []int{1, 3, 5, 7}},
		{Plan{DropLayers: []int{7, 0}}, []int{1, 2, 3, 4, 5, 6}},
		{Plan{DropBlock: 3}, []int{0, 1, 5, 6, 7}},
		{Plan{DropBlock: 2, BlockScore: BlockScoreOther}, []int{0, 1, 2, 5, 6, 7}},
		{Plan{}, []int{0, 1, 2, 3, 4, 5, 6, 7}},
	}
	for _, c := range cases {
		k, err := Select(cfg, c.plan, imp)
		if err != nil {
			t.Fatalf("%+v: %v", c.plan, err)
		}
		if !slices.Equal(k.Layers, c.wantLayers) {
			t.Errorf("%+v kept layers %v, want %v", c.plan, k.Layers, c.wantLayers)
		}
		if len(k.FFN) != len(c.wantLayers) || len(k.Heads) != len(c.wantLayers) || len(k.Hidden) != cfg.Hidden {
			t.Errorf("%+v: kept lists of wrong length", c.plan)
		}
	}
	k, err := Select(cfg, Plan{Hidden: 4, FFN: 3, HeadsPerGroup: 1, Layers: 6}, imp)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(k.Hidden, []int{764, 765, 766, 767}) {
		t.Errorf("hidden kept %v", k.Hidden)
	}
	if k.Layers[1] != 2 || !slices.Equal(k.FFN[1], []int{0, 3070, 3071}) || !slices.Equal(k.FFN[0], []int{3069, 3070, 3071}) {
		t.Errorf("ffn kept %v (layers %v)", k.FFN[:2], k.Layers)
	}
	if !slices.Equal(k.Heads[0], []int{2, 5, 8, 11}) {
		t.Errorf("heads kept %v, want the last head of each group", k.Heads[0])
	}
}

// tinyConfig is a hand-checkable model: 3 layers, hidden 6, 4 query heads in
// 2 KV groups, head_dim 2 (4·2 ≠ 6), ffn 5, vocab 7, q/k/v biases, untied.
func tinyConfig() *llm.Config {
	c := testConfig()
	c.VocabSize, c.Hidden, c.FFN, c.NumLayers = 7, 6, 5, 3
	c.NumHeads, c.NumKVHeads, c.HeadDim = 4, 2, 2
	c.AttentionBias = true
	return c
}

// tinyWeights fills every tensor with code(tensorID, row, col) =
// id·10000 + row·100 + col so tests can tell which source element landed where.
func tinyWeights(cfg *llm.Config) map[string]*tensors.Tensor {
	w := map[string]*tensors.Tensor{}
	id := 0
	add := func(name string, dims ...int) {
		id++
		t := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
		cols := 1
		if len(dims) == 2 {
			cols = dims[1]
		}
		tensors.MustMutableFlatData(t, func(flat []float32) {
			for i := range flat {
				flat[i] = float32(id*10000 + (i/cols)*100 + i%cols)
			}
		})
		w[name] = t
	}
	d, f, q, kv := cfg.Hidden, cfg.FFN, cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	add("model.embed_tokens.weight", cfg.VocabSize, d)
	add("lm_head.weight", cfg.VocabSize, d)
	add("model.norm.weight", d)
	for l := range cfg.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", d)
		add(p+"post_attention_layernorm.weight", d)
		add(p+"self_attn.q_proj.weight", q, d)
		add(p+"self_attn.q_proj.bias", q)
		add(p+"self_attn.k_proj.weight", kv, d)
		add(p+"self_attn.k_proj.bias", kv)
		add(p+"self_attn.v_proj.weight", kv, d)
		add(p+"self_attn.v_proj.bias", kv)
		add(p+"self_attn.o_proj.weight", d, q)
		add(p+"mlp.gate_proj.weight", f, d)
		add(p+"mlp.up_proj.weight", f, d)
		add(p+"mlp.down_proj.weight", d, f)
	}
	return w
}

// expectSlice checks that got holds src[rows][cols] (nil = all).
func expectSlice(t *testing.T, name string, got, src *tensors.Tensor, rows, cols []int) {
	t.Helper()
	dims := src.Shape().Dimensions
	if rows == nil {
		rows = iota(dims[0])
	}
	numCols := 1
	if len(dims) == 2 {
		numCols = dims[1]
		if cols == nil {
			cols = iota(dims[1])
		}
	} else {
		cols = []int{0}
	}
	s := tensors.MustCopyFlatData[float32](src)
	var want []float32
	for _, r := range rows {
		for _, c := range cols {
			want = append(want, s[r*numCols+c])
		}
	}
	if g := tensors.MustCopyFlatData[float32](got); !slices.Equal(g, want) {
		t.Errorf("%s: got %v, want %v", name, g, want)
	}
}

func TestSliceWeights(t *testing.T) {
	cfg := tinyConfig()
	w := tinyWeights(cfg)
	before := map[string][]float32{}
	for n, x := range w {
		before[n] = tensors.MustCopyFlatData[float32](x)
	}
	imp := &results.Importance{
		Hidden:        []float64{5, 0, 4, 1, 3, 2},                                    // keep 0, 2, 4
		FFN:           [][]float64{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {0, 9, 0, 9, 0}}, // keep 2..4 | 0..2 | 1,3 + 0
		Heads:         [][]float64{{1, 2, 3, 4}, {4, 3, 2, 1}, {1, 0, 0, 1}},          // per group: 1,3 | 0,2 | 0,3
		DropOneLMLoss: []float64{3, 1, 2},                                             // drop layer 1
	}
	r, err := Plan{Hidden: 3, FFN: 3, HeadsPerGroup: 1, Layers: 2}.Resolve(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := selectUnits(cfg, r, imp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sliceWeights(cfg, w, sel)
	if err != nil {
		t.Fatal(err)
	}
	H := []int{0, 2, 4}
	if len(got) != 3+2*12 {
		t.Errorf("%d tensors after dropping a layer, want 27", len(got))
	}
	expectSlice(t, "embed", got["model.embed_tokens.weight"], w["model.embed_tokens.weight"], nil, H)
	expectSlice(t, "lm_head", got["lm_head.weight"], w["lm_head.weight"], nil, H)
	expectSlice(t, "norm", got["model.norm.weight"], w["model.norm.weight"], H, nil)
	// New layer 1 is source layer 2.
	for newL, srcL := range []int{0, 2} {
		F := [][]int{{2, 3, 4}, nil, {0, 1, 3}}[srcL]
		Q := [][]int{{2, 3, 6, 7}, nil, {0, 1, 6, 7}}[srcL] // head rows (head_dim 2)
		p, s := fmt.Sprintf("model.layers.%d.", newL), fmt.Sprintf("model.layers.%d.", srcL)
		expectSlice(t, p+"in_norm", got[p+"input_layernorm.weight"], w[s+"input_layernorm.weight"], H, nil)
		expectSlice(t, p+"post_norm", got[p+"post_attention_layernorm.weight"], w[s+"post_attention_layernorm.weight"], H, nil)
		expectSlice(t, p+"q", got[p+"self_attn.q_proj.weight"], w[s+"self_attn.q_proj.weight"], Q, H)
		expectSlice(t, p+"q.bias", got[p+"self_attn.q_proj.bias"], w[s+"self_attn.q_proj.bias"], Q, nil)
		expectSlice(t, p+"k", got[p+"self_attn.k_proj.weight"], w[s+"self_attn.k_proj.weight"], nil, H)
		expectSlice(t, p+"k.bias", got[p+"self_attn.k_proj.bias"], w[s+"self_attn.k_proj.bias"], nil, nil)
		expectSlice(t, p+"v", got[p+"self_attn.v_proj.weight"], w[s+"self_attn.v_proj.weight"], nil, H)
		expectSlice(t, p+"v.bias", got[p+"self_attn.v_proj.bias"], w[s+"self_attn.v_proj.bias"], nil, nil)
		expectSlice(t, p+"o", got[p+"self_attn.o_proj.weight"], w[s+"self_attn.o_proj.weight"], H, Q)
		expectSlice(t, p+"gate", got[p+"mlp.gate_proj.weight"], w[s+"mlp.gate_proj.weight"], F, H)
		expectSlice(t, p+"up", got[p+"mlp.up_proj.weight"], w[s+"mlp.up_proj.weight"], F, H)
		expectSlice(t, p+"down", got[p+"mlp.down_proj.weight"], w[s+"mlp.down_proj.weight"], H, F)
	}
	if _, ok := got["model.layers.2.input_layernorm.weight"]; ok {
		t.Errorf("layer 2 still present after renumbering")
	}
	// The source is untouched, and no output tensor aliases a source tensor.
	for n, x := range w {
		if !slices.Equal(tensors.MustCopyFlatData[float32](x), before[n]) {
			t.Errorf("source tensor %s modified", n)
		}
	}
	tensors.MustMutableFlatData(got["model.layers.0.self_attn.k_proj.bias"], func(flat []float32) { flat[0] = -1 })
	if tensors.MustCopyFlatData[float32](w["model.layers.0.self_attn.k_proj.bias"])[0] == -1 {
		t.Errorf("output tensor shares memory with the source")
	}
}

func TestSliceWeightsErrors(t *testing.T) {
	cfg := tinyConfig()
	r, _ := Plan{}.Resolve(cfg)
	sel, err := selectUnits(cfg, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"model.layers.0.self_attn.rotary.weight", "model.layers.9.input_layernorm.weight", "model.extra.weight"} {
		w := tinyWeights(cfg)
		w[name] = tensors.FromValue([]float32{1})
		if _, err := sliceWeights(cfg, w, sel); err == nil {
			t.Errorf("tensor %s accepted", name)
		}
	}
}

func TestSliceTensorTwoByteDType(t *testing.T) {
	// Raw-byte slicing keeps 2-byte dtypes bit-exact.
	src := tensors.FromShape(shapes.Make(dtypes.Int16, 3, 4))
	tensors.MustMutableFlatData(src, func(flat []int16) {
		for i := range flat {
			flat[i] = int16(i)
		}
	})
	got, err := sliceTensor(src, []int{0, 2}, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if g := tensors.MustCopyFlatData[int16](got); !slices.Equal(g, []int16{1, 2, 9, 10}) {
		t.Errorf("got %v", g)
	}
	if _, err := sliceTensor(src, []int{2, 1}, nil); err == nil {
		t.Errorf("descending rows accepted")
	}
	if _, err := sliceTensor(src, nil, []int{4}); err == nil {
		t.Errorf("out-of-range column accepted")
	}
}

// TestSliceBytesReleasesWhatItRead: slicing a [6, 4] int16 tensor's raw
// bytes (rows of 8 bytes; release every 16 bytes) keeps rows 1, 3, 4 and
// columns 0, 2, 3, and releases only bytes already read: before row 3
// (offset 24, rows 0-2 done) and at the end (48).
func TestSliceBytesReleasesWhatItRead(t *testing.T) {
	defer func(v int) { releaseEvery = v }(releaseEvery)
	releaseEvery = 16
	src := make([]byte, 48)
	for i := range 24 {
		src[2*i] = byte(i) // little-endian int16 i
	}
	var released []int64
	got, err := sliceBytes(src, shapes.Make(dtypes.Int16, 6, 4), []int{1, 3, 4}, []int{0, 2, 3}, func(upTo int64) { released = append(released, upTo) })
	if err != nil {
		t.Fatal(err)
	}
	if g := tensors.MustCopyFlatData[int16](got); !slices.Equal(g, []int16{4, 6, 7, 12, 14, 15, 16, 18, 19}) {
		t.Errorf("got %v", g)
	}
	if !slices.Equal(released, []int64{24, 48}) {
		t.Errorf("released up to %v, want [24 48]", released)
	}
	if _, err := sliceBytes(src[:40], shapes.Make(dtypes.Int16, 6, 4), nil, nil, nil); err == nil {
		t.Error("40 bytes for a [6, 4] int16 tensor accepted")
	}
}
