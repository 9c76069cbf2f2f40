package llm

import (
	"fmt"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// relTolerance is the bound: max |ours - ref| ≤ relTolerance × max |ref|.
const relTolerance = fixtures.RelTolerance

// runWithWeights compiles build with the fixture's weights passed as graph
// inputs (params looks them up by name) and runs it on ids.
func runWithWeights(t testing.TB, backend compute.Backend, f *fixture, ids *tensors.Tensor,
	build func(g *Graph, ids *Node, params func(name string) *Node) []*Node) []*tensors.Tensor {
	t.Helper()
	names := f.weightNames()
	exec, err := NewExec(backend, func(g *Graph, inputs []*Node) []*Node {
		byName := map[string]*Node{}
		for i, n := range names {
			byName[n] = inputs[1+i]
		}
		return build(g, inputs[0], func(name string) *Node { return byName[name] })
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
		t.Fatalf("%s: %v", f.name, err)
	}
	return res
}

// runForward executes Forward for ids with the fixture's weights passed as
// graph inputs; extra builds more outputs from the graph (may be nil).
func runForward(t testing.TB, backend compute.Backend, f *fixture, ids *tensors.Tensor, opts func(g *Graph) *ForwardOptions,
	extra func(ids *Node, out *Outputs) []*Node) []*tensors.Tensor {
	t.Helper()
	return runWithWeights(t, backend, f, ids, func(g *Graph, ids *Node, params func(string) *Node) []*Node {
		var o *ForwardOptions
		if opts != nil {
			o = opts(g)
		}
		out := Forward(f.cfg, params, ids, o)
		res := append([]*Node{out.Logits, out.LastLayerRaw}, out.Hidden...)
		if extra != nil {
			res = append(res, extra(ids, out)...)
		}
		return res
	})
}

// TestForwardMatchesHuggingFace compares logits, every hidden state and the
// raw last-layer output with the transformers references of every fixture.
func TestForwardMatchesHuggingFace(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		res := runForward(t, backend, f, f.ref["input_ids"], nil, nil)
		fixtures.CompareToReference(t, "logits", res[0], f.ref["logits"], relTolerance, Argmax)
		fixtures.CompareToReference(t, "last_layer_output_raw", res[1], f.ref["last_layer_output_raw"], relTolerance, nil)
		for l := 0; l <= f.cfg.NumLayers; l++ {
			key := fmt.Sprintf("hidden_states.%d", l)
			fixtures.CompareToReference(t, key, res[2+l], f.ref[key], relTolerance, nil)
		}
	})
}
