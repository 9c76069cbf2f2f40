package llm

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// relTolerance is the bound: max |ours - ref| ≤ relTolerance × max |ref|.
const relTolerance = 1e-3

// runForward executes Forward for ids with the fixture's weights passed as
// graph inputs; extra builds more outputs from the graph (may be nil).
func runForward(t testing.TB, backend compute.Backend, f *fixture, ids *tensors.Tensor, opts func(g *Graph) *ForwardOptions,
	extra func(ids *Node, out *Outputs) []*Node) []*tensors.Tensor {
	t.Helper()
	names := f.weightNames()
	exec, err := NewExec(backend, func(g *Graph, inputs []*Node) []*Node {
		byName := map[string]*Node{}
		for i, n := range names {
			byName[n] = inputs[1+i]
		}
		var o *ForwardOptions
		if opts != nil {
			o = opts(g)
		}
		out := Forward(f.cfg, func(name string) *Node { return byName[name] }, inputs[0], o)
		res := append([]*Node{out.Logits, out.LastLayerRaw}, out.Hidden...)
		if extra != nil {
			res = append(res, extra(inputs[0], out)...)
		}
		return res
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	args := []any{ids}
	for _, n := range names {
		args = append(args, f.weights[n])
	}
	res, err := exec.Exec(args...)
	if err != nil {
		t.Fatalf("%s: forward: %v", f.name, err)
	}
	return res
}

// compareRef checks got against ref with relTolerance; with argmax it also
// requires the same argmax over the last axis at every position.
func compareRef(t *testing.T, what string, got, ref *tensors.Tensor, argmax bool) {
	t.Helper()
	if !got.Shape().EqualDimensions(ref.Shape()) {
		t.Errorf("%s: shape %s, reference %s", what, got.Shape(), ref.Shape())
		return
	}
	g, r := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](ref)
	var maxErr, maxRef float64
	for i := range r {
		maxErr = math.Max(maxErr, math.Abs(float64(g[i]-r[i])))
		maxRef = math.Max(maxRef, math.Abs(float64(r[i])))
	}
	if maxErr > relTolerance*maxRef || math.IsNaN(maxErr) {
		t.Errorf("%s: max abs error %.3g > %.0e × max|ref| (%.3g)", what, maxErr, relTolerance, maxRef)
	} else {
		t.Logf("%s: max abs error %.3g (max|ref| %.3g)", what, maxErr, maxRef)
	}
	if argmax {
		n := ref.Shape().Dim(-1)
		mismatches := 0
		for row := 0; row < len(r)/n; row++ {
			if Argmax(g[row*n:(row+1)*n]) != Argmax(r[row*n:(row+1)*n]) {
				mismatches++
			}
		}
		if mismatches > 0 {
			t.Errorf("%s: argmax differs at %d of %d positions", what, mismatches, len(r)/n)
		}
	}
}

// TestForwardMatchesHuggingFace compares logits, every hidden state and the
// raw last-layer output with the transformers references of every fixture.
func TestForwardMatchesHuggingFace(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		res := runForward(t, backend, f, f.ref["input_ids"], nil, nil)
		compareRef(t, "logits", res[0], f.ref["logits"], true)
		compareRef(t, "last_layer_output_raw", res[1], f.ref["last_layer_output_raw"], false)
		for l := 0; l <= f.cfg.NumLayers; l++ {
			key := fmt.Sprintf("hidden_states.%d", l)
			compareRef(t, key, res[2+l], f.ref[key], false)
		}
	})
}
