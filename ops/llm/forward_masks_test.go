package llm

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// exactTolerance bounds float32 reordering noise (relative to max |logits|)
// between two computations that are mathematically identical, e.g. masking
// units vs. pruning them from the weights.
const exactTolerance = 1e-5

// checkClose fails if max |a-b| > exactTolerance × max |b|.
// Only the sizes must agree (a flattened row may be compared with a tensor).
func checkClose(t *testing.T, what string, a, b *tensors.Tensor) {
	t.Helper()
	if a.Shape().Size() != b.Shape().Size() {
		t.Fatalf("%s: sizes differ: %s vs %s", what, a.Shape(), b.Shape())
	}
	if maxDiff, maxRef := fixtures.MaxAbsDiff(a, b); !(maxDiff <= exactTolerance*maxRef) {
		t.Errorf("%s: max abs difference %.3g > %.0e × %.3g", what, maxDiff, exactTolerance, maxRef)
	}
}

// filled returns a float32 tensor of the given dims filled with v.
func filled(v float32, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = v
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// derive returns a copy of the fixture with another config and weights.
func (f *fixture) derive(cfg *Config, weights map[string]*tensors.Tensor) *fixture {
	return &fixture{name: f.name, cfg: cfg, weights: weights, ref: f.ref}
}

// matrix is a host float32 matrix used to edit weights in tests.
type matrix struct {
	rows, cols int
	v          []float32
}

func toMatrix(t *tensors.Tensor) matrix {
	dims := t.Shape().Dimensions
	m := matrix{rows: dims[0], cols: 1, v: tensors.MustCopyFlatData[float32](t)}
	if len(dims) == 2 {
		m.cols = dims[1]
	}
	return m
}

func (m matrix) tensor1D() *tensors.Tensor { return tensors.FromFlatDataAndDimensions(m.v, m.rows) }
func (m matrix) tensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(m.v, m.rows, m.cols)
}

// pick keeps the given rows and columns.
func (m matrix) pick(rows, cols []int) matrix {
	out := matrix{rows: len(rows), cols: len(cols), v: make([]float32, 0, len(rows)*len(cols))}
	for _, r := range rows {
		for _, c := range cols {
			out.v = append(out.v, m.v[r*m.cols+c])
		}
	}
	return out
}

func (m matrix) allRows() []int { return seq(m.rows) }
func (m matrix) allCols() []int { return seq(m.cols) }
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// without returns 0..n-1 minus drop.
func without(n int, drop ...int) []int {
	var keep []int
	for i := range n {
		if !slices.Contains(drop, i) {
			keep = append(keep, i)
		}
	}
	return keep
}

// withZeroedColumns returns a shallow copy of weights whose matrix key has
// the columns cols set to zero (the others share the original tensors).
func withZeroedColumns(weights map[string]*tensors.Tensor, key string, cols []int) map[string]*tensors.Tensor {
	out := maps.Clone(weights)
	m := toMatrix(weights[key])
	for r := range m.rows {
		for _, c := range cols {
			m.v[r*m.cols+c] = 0
		}
	}
	out[key] = m.tensor()
	return out
}

// TestMasksAllOnesReproducePlain: all-ones masks, no skipped layers and an
// all-true attention mask give the plain logits.
func TestMasksAllOnesReproducePlain(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		cfg := f.cfg
		ids := f.ref["input_ids"]
		plain := runForward(t, backend, f, ids, nil, nil)[0]
		masked := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
			return &ForwardOptions{
				SkipLayers:    make([]bool, cfg.NumLayers),
				FFNMask:       Const(g, filled(1, cfg.NumLayers, cfg.FFN)),
				HeadMask:      Const(g, filled(1, cfg.NumLayers, cfg.NumHeads)),
				HiddenMask:    Const(g, filled(1, cfg.Hidden)),
				AttentionMask: GreaterOrEqual(Const(g, ids), ScalarZero(g, dtypes.Int32)),
				// Falls back to the regular attention where the backend has no fused op.
				FusedAttention: true,
			}
		}, nil)[0]
		checkClose(t, "all-ones masks", masked, plain)
	})
}

// TestFFNMaskEqualsZeroedDownProjColumn: masking FFN neuron j of layer l is
// exactly zeroing column j of that layer's down_proj (what pruning does).
func TestFFNMaskEqualsZeroedDownProjColumn(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		cfg := f.cfg
		layer, neurons := cfg.NumLayers-1, []int{0, 7, cfg.FFN - 1}
		mask := filled(1, cfg.NumLayers, cfg.FFN)
		mask.MutableFlatData(func(flat any) {
			for _, j := range neurons {
				flat.([]float32)[layer*cfg.FFN+j] = 0
			}
		})
		ids := f.ref["input_ids"]
		masked := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
			return &ForwardOptions{FFNMask: Const(g, mask)}
		}, nil)[0]

		weights := withZeroedColumns(f.weights, fmt.Sprintf("model.layers.%d.mlp.down_proj.weight", layer), neurons)
		zeroed := runForward(t, backend, f.derive(cfg, weights), ids, nil, nil)[0]
		checkClose(t, "FFNMask vs zeroed down_proj column", masked, zeroed)

		plain := runForward(t, backend, f, ids, nil, nil)[0]
		if d, _ := fixtures.MaxAbsDiff(masked, plain); d == 0 {
			t.Errorf("masking FFN neurons %v of layer %d did not change the logits", neurons, layer)
		}
	})
}

// TestHeadMaskEqualsPrunedHead: masking query head h of layer l equals
// removing it (its q_proj rows and o_proj columns) from the model.
func TestHeadMaskEqualsPrunedHead(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		cfg := f.cfg
		layer, head := 0, 1
		mask := filled(1, cfg.NumLayers, cfg.NumHeads)
		mask.MutableFlatData(func(flat any) { flat.([]float32)[layer*cfg.NumHeads+head] = 0 })
		ids := f.ref["input_ids"]
		masked := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
			return &ForwardOptions{HeadMask: Const(g, mask)}
		}, nil)[0]

		// Zeroing the head's o_proj input columns is what removing the head does.
		headCols := seq((head + 1) * cfg.HeadDim)[head*cfg.HeadDim:]
		weights := withZeroedColumns(f.weights, fmt.Sprintf("model.layers.%d.self_attn.o_proj.weight", layer), headCols)
		zeroed := runForward(t, backend, f.derive(cfg, weights), ids, nil, nil)[0]
		checkClose(t, "HeadMask vs zeroed o_proj columns", masked, zeroed)
	})
}

// TestSkipLayersEqualsRemovedLayer: SkipLayers[l] equals the model with layer
// l deleted and the later layers renumbered.
func TestSkipLayersEqualsRemovedLayer(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		cfg := f.cfg
		drop := 1
		skip := make([]bool, cfg.NumLayers)
		skip[drop] = true
		ids := f.ref["input_ids"]
		skipped := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
			return &ForwardOptions{SkipLayers: skip}
		}, nil)

		small := *cfg
		small.NumLayers--
		weights := map[string]*tensors.Tensor{}
		for n, w := range f.weights {
			var l int
			var rest string
			if _, err := fmt.Sscanf(n, "model.layers.%d.%s", &l, &rest); err == nil {
				switch {
				case l == drop:
					continue
				case l > drop:
					n = strings.Replace(n, fmt.Sprintf("layers.%d.", l), fmt.Sprintf("layers.%d.", l-1), 1)
				}
			}
			weights[n] = w
		}
		removed := runForward(t, backend, f.derive(&small, weights), ids, nil, nil)
		checkClose(t, "SkipLayers vs removed layer: logits", skipped[0], removed[0])
		// The skipped layer is the identity: its output (Hidden[drop+1], or
		// LastLayerRaw for the last layer) is its input Hidden[drop].
		after := skipped[1]
		if drop+1 < cfg.NumLayers {
			after = skipped[2+drop+1]
		}
		checkClose(t, "skipped layer is identity", after, skipped[2+drop])
	})
}

// TestLayerMaskEqualsSkipLayers: LayerMask 0 for a layer gives the logits of
// SkipLayers (exactly the removed layer), all ones the plain logits.
func TestLayerMaskEqualsSkipLayers(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		cfg := f.cfg
		ids := f.ref["input_ids"]
		for drop := range cfg.NumLayers {
			skip := make([]bool, cfg.NumLayers)
			skip[drop] = true
			want := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
				return &ForwardOptions{SkipLayers: skip}
			}, nil)
			mask := filled(1, cfg.NumLayers)
			mask.MutableFlatData(func(flat any) { flat.([]float32)[drop] = 0 })
			got := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
				return &ForwardOptions{LayerMask: Const(g, mask)}
			}, nil)
			checkClose(t, fmt.Sprintf("LayerMask drop %d: logits", drop), got[0], want[0])
			checkClose(t, fmt.Sprintf("LayerMask drop %d: last raw", drop), got[1], want[1])
		}
		plain := runForward(t, backend, f, ids, nil, nil)[0]
		ones := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
			return &ForwardOptions{LayerMask: Const(g, filled(1, cfg.NumLayers))}
		}, nil)[0]
		checkClose(t, "LayerMask all ones", ones, plain)
	})
}

// TestHiddenMaskEqualsPrunedChannels: HiddenMask gives exactly the model whose
// hidden channels were pruned (RMSNorm statistics over kept channels only):
// same logits, kept channels of every hidden state equal, masked ones zero.
func TestHiddenMaskEqualsPrunedChannels(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		cfg := f.cfg
		dropped := []int{0, 5, 6, cfg.Hidden - 1}
		keep := without(cfg.Hidden, dropped...)
		mask := filled(1, cfg.Hidden)
		mask.MutableFlatData(func(flat any) {
			for _, c := range dropped {
				flat.([]float32)[c] = 0
			}
		})
		ids := f.ref["input_ids"]
		masked := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
			return &ForwardOptions{HiddenMask: Const(g, mask)}
		}, nil)

		pruned := *cfg
		pruned.Hidden = len(keep)
		weights := map[string]*tensors.Tensor{}
		for n, w := range f.weights {
			m := toMatrix(w)
			switch {
			case strings.HasSuffix(n, "norm.weight"):
				weights[n] = m.pick(keep, []int{0}).tensor1D()
			case strings.HasSuffix(n, "embed_tokens.weight"), strings.HasSuffix(n, "lm_head.weight"),
				strings.Contains(n, "q_proj.weight"), strings.Contains(n, "k_proj.weight"),
				strings.Contains(n, "v_proj.weight"), strings.Contains(n, "gate_proj.weight"),
				strings.Contains(n, "up_proj.weight"):
				weights[n] = m.pick(m.allRows(), keep).tensor()
			case strings.Contains(n, "o_proj.weight"), strings.Contains(n, "down_proj.weight"):
				weights[n] = m.pick(keep, m.allCols()).tensor()
			case strings.HasSuffix(n, ".bias"):
				weights[n] = w
			default:
				t.Fatalf("test does not know how to prune %q", n)
			}
		}
		small := runForward(t, backend, f.derive(&pruned, weights), ids, nil, nil)
		checkClose(t, "HiddenMask vs pruned: logits", masked[0], small[0])
		for i := 1; i < len(small); i++ { // last_layer_output_raw, hidden_states.*
			full := tensors.MustCopyFlatData[float32](masked[i])
			kept := make([]float32, 0, len(full)/cfg.Hidden*len(keep))
			for row := 0; row < len(full)/cfg.Hidden; row++ {
				for _, c := range keep {
					kept = append(kept, full[row*cfg.Hidden+c])
				}
				for _, c := range dropped {
					if v := full[row*cfg.Hidden+c]; v != 0 {
						t.Fatalf("output %d: masked channel %d is %g, want 0", i, c, v)
					}
				}
			}
			checkClose(t, fmt.Sprintf("HiddenMask vs pruned: output %d, kept channels", i),
				tensors.FromFlatDataAndDimensions(kept, len(kept)), small[i])
		}
	})
}

// TestAttentionMaskRightPadding: with right padding, the valid positions of a
// padded row equal the forward pass of the unpadded (shorter) sequence.
func TestAttentionMaskRightPadding(t *testing.T) {
	backend := testBackend(t)
	f := loadFixture(t, "dev-llama-gqa")
	all := tensors.MustCopyFlatData[int32](f.ref["input_ids"])
	seqLen := f.ref["input_ids"].Shape().Dim(1)
	validLen := 20
	short := tensors.FromFlatDataAndDimensions(slices.Clone(all[:validLen]), 1, validLen)
	padded := slices.Clone(all[:seqLen])
	valid := make([]bool, seqLen)
	for i := range padded {
		valid[i] = i < validLen
		if !valid[i] {
			padded[i] = 0
		}
	}
	want := runForward(t, backend, f, short, nil, nil)[0]
	got := runForward(t, backend, f, tensors.FromFlatDataAndDimensions(padded, 1, seqLen), func(g *Graph) *ForwardOptions {
		return &ForwardOptions{AttentionMask: Const(g, tensors.FromFlatDataAndDimensions(valid, 1, seqLen))}
	}, nil)[0]
	vocab := f.cfg.VocabSize
	gotValid := tensors.MustCopyFlatData[float32](got)[:validLen*vocab]
	checkClose(t, "padded row, valid positions", tensors.FromFlatDataAndDimensions(gotValid, validLen*vocab), want)
}

// TestTaps: every tap is called once per layer with the documented shapes,
// residual_in/out agree with Hidden/LastLayerRaw, and skipped layers are not tapped.
func TestTaps(t *testing.T) {
	backend := testBackend(t)
	f := loadFixture(t, "dev-llama3-headdim-tied-bf16")
	cfg := f.cfg
	ids := f.ref["input_ids"]
	batchSize, seqLen := ids.Shape().Dim(0), ids.Shape().Dim(1)
	wantDims := map[string][]int{
		TapResidualIn: {batchSize, seqLen, cfg.Hidden}, TapAttnNormOut: {batchSize, seqLen, cfg.Hidden},
		TapOProjIn: {batchSize, seqLen, cfg.NumHeads * cfg.HeadDim}, TapMLPNormOut: {batchSize, seqLen, cfg.Hidden},
		TapDownProjIn: {batchSize, seqLen, cfg.FFN}, TapResidualOut: {batchSize, seqLen, cfg.Hidden},
	}
	skip := make([]bool, cfg.NumLayers)
	skip[1] = true
	seen := map[string]int{}
	res := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
		return &ForwardOptions{SkipLayers: skip, Tap: func(layer int, name string, x *Node) {
			if skip[layer] {
				t.Errorf("tap %s called for skipped layer %d", name, layer)
			}
			if !slices.Equal(x.Shape().Dimensions, wantDims[name]) {
				t.Errorf("tap %s layer %d: shape %s, want %v", name, layer, x.Shape(), wantDims[name])
			}
			seen[fmt.Sprintf("%d/%s", layer, name)]++
		}}
	}, func(_ *Node, out *Outputs) []*Node { return nil })
	if len(seen) != len(wantDims)*(cfg.NumLayers-1) {
		t.Errorf("saw %d taps, want %d: %v", len(seen), len(wantDims)*(cfg.NumLayers-1), seen)
	}
	_ = res
	var tapped []*Node
	last := cfg.NumLayers - 1
	res = runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
		tapped = nil
		return &ForwardOptions{Tap: func(layer int, name string, x *Node) {
			if (layer == 1 && name == TapResidualIn) || (layer == last && name == TapResidualOut) {
				tapped = append(tapped, x)
			}
		}}
	}, func(_ *Node, out *Outputs) []*Node { return tapped })
	checkClose(t, "residual_in(1) = Hidden[1]", res[len(res)-2], res[2+1])
	checkClose(t, "residual_out(last) = LastLayerRaw", res[len(res)-1], res[1])
}
