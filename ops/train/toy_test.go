package train

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// testBackend is the process backend (fixtures.Backend: GOMLX_BACKEND, a
// plain "go" opened as go:ops_sequential,creation_order).
func testBackend(t testing.TB) compute.Backend { return fixtures.Backend(t) }

// toyVocab, toyDim: sizes of the toy bigram LM used by the trainer tests.
const (
	toyVocab = 11
	toyDim   = 6
)

// newToyStore creates a tiny bigram LM under /model: embed [vocab, dim],
// norm.weight [dim], out.weight [dim, vocab], out.bias [vocab], seeded.
func newToyStore(t testing.TB, seed uint64) *model.Store {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	store := model.NewStore()
	mk := func(name string, dims ...int) {
		n := 1
		for _, d := range dims {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(r.NormFloat64() * 0.3)
		}
		if name == "norm.weight" {
			for i := range data {
				data[i] = 1
			}
		}
		if _, err := store.CreateVariable("/model/"+name, tensors.FromFlatDataAndDimensions(data, dims...)); err != nil {
			t.Fatal(err)
		}
	}
	mk("embed.weight", toyVocab, toyDim)
	mk("norm.weight", toyDim)
	mk("out.weight", toyDim, toyVocab)
	mk("out.bias", toyVocab)
	return store
}

// toyLoss is the next-token cross-entropy of the toy bigram LM; it also
// reports a "loss_ce" metric (same value) to exercise metrics plumbing.
func toyLoss(g *graph.Graph, store *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
	v := func(name string) *graph.Node { return store.GetVariable("/model/" + name).NodeValue(g) }
	b, s := batch.Shape().Dimensions[0], batch.Shape().Dimensions[1]
	x := graph.Gather(v("embed.weight"), graph.Reshape(batch, b, s, 1)) // [batchSize, seqLen, dim]
	x = graph.Mul(x, graph.ExpandLeftToRank(v("norm.weight"), 3))
	logits := graph.Add(graph.Einsum("bsd,dv->bsv", x, v("out.weight")), graph.ExpandLeftToRank(v("out.bias"), 3)) // [batchSize, seqLen, vocab]
	logits = graph.Slice(logits, graph.AxisRange(), graph.AxisRange(0, s-1))
	targets := graph.Slice(batch, graph.AxisRange(), graph.AxisRange(1, s))
	logp := graph.LogSoftmax(logits, -1)
	oneHot := graph.OneHot(targets, toyVocab, dtypes.Float32)
	nll := graph.Neg(graph.ReduceSum(graph.Mul(logp, oneHot), -1)) // [batchSize, seqLen-1]
	loss := graph.ReduceAllMean(nll)
	return loss, map[string]*graph.Node{"loss_ce": loss}
}

// toySequences returns n sequences of length seqLen following a noisy
// deterministic bigram rule, so the toy LM has something to learn.
func toySequences(n, seqLen int, seed uint64) [][]int32 {
	r := rand.New(rand.NewPCG(seed, 1))
	seqs := make([][]int32, n)
	for i := range seqs {
		s := make([]int32, seqLen)
		s[0] = int32(r.IntN(toyVocab))
		for j := 1; j < seqLen; j++ {
			if r.IntN(4) == 0 {
				s[j] = int32(r.IntN(toyVocab))
			} else {
				s[j] = (s[j-1]*3 + 1) % toyVocab
			}
		}
		seqs[i] = s
	}
	return seqs
}

// variableValues copies every variable's float32 data, keyed by path.
func variableValues(t testing.TB, store *model.Store) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for v := range store.IterVariables() {
		if v.DType() != dtypes.Float32 {
			continue
		}
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		out[v.Path()] = tensors.MustCopyFlatData[float32](val)
	}
	return out
}

var _ = shapes.Make
