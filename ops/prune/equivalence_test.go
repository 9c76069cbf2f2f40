package prune

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// maskTolerance bounds max |pruned − masked| / max |masked| over the logits:
// the pruned model and the masked view compute the same sums in a different
// float32 order (fewer terms), nothing else.
const maskTolerance = 1e-5

var fixtureNames = fixtures.Names

var fixtureDir = fixtures.Dir

// fixture is a reference model loaded in its storage dtype with its scores
// and reference input ids.
type fixture struct {
	name string
	dir  string
	m    *llm.Model
	imp  *results.Importance
	ids  *tensors.Tensor // [4, 32] int32
}

func loadFixture(t testing.TB, name string) *fixture {
	t.Helper()
	dir := fixtureDir(name)
	cfg, err := llm.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.LoadModel(dir, StorageDType(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{name: name, dir: dir, m: m, imp: fixtures.ImportanceIn(t, dir), ids: fixtures.InputIDs(t, name)}
}

func testBackend(t testing.TB) compute.Backend { return fixtures.Backend(t) }

// logits runs llm.Forward on m for ids (weights passed as inputs), with the
// masks of mv when not nil.
func logits(t testing.TB, b compute.Backend, m *llm.Model, ids *tensors.Tensor, mv *Masks) *tensors.Tensor {
	t.Helper()
	names := make([]string, 0, len(m.Weights))
	for n := range m.Weights {
		names = append(names, n)
	}
	sort.Strings(names)
	exec, err := graph.NewExec(b, func(g *graph.Graph, inputs []*graph.Node) *graph.Node {
		byName := map[string]*graph.Node{}
		for i, n := range names {
			byName[n] = inputs[1+i]
		}
		var opts *llm.ForwardOptions
		if mv != nil {
			opts = mv.Options(g, nil)
		}
		return llm.Forward(m.Config, func(name string) *graph.Node { return byName[name] }, inputs[0], opts).Logits
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	args := []any{ids}
	for _, n := range names {
		args = append(args, m.Weights[n])
	}
	res, err := exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// relDiff returns max |a−b| / max |b| (NaN-safe: NaN gives +Inf).
func relDiff(t testing.TB, a, b *tensors.Tensor) float64 {
	t.Helper()
	x, y := tensors.MustCopyFlatData[float32](a), tensors.MustCopyFlatData[float32](b)
	if len(x) != len(y) {
		t.Fatalf("sizes differ: %s vs %s", a.Shape(), b.Shape())
	}
	var maxDiff, maxRef float64
	for i := range x {
		d := math.Abs(float64(x[i] - y[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		maxDiff = math.Max(maxDiff, d)
		maxRef = math.Max(maxRef, math.Abs(float64(y[i])))
	}
	return maxDiff / maxRef
}

// TestPrunedEqualsMaskedView: for every fixture and every axis (and all at
// once), the pruned model's logits equal the original model's with the
// plan's masks / skipped layers, and differ from the unpruned logits.
func TestPrunedEqualsMaskedView(t *testing.T) {
	b := testBackend(t)
	for _, name := range fixtureNames {
		f := loadFixture(t, name)
		cfg := f.m.Config
		plain := logits(t, b, f.m, f.ids, nil)
		imp := *f.imp
		imp.BlockSize = 1
		imp.BlockLMLoss = slices.Clone(imp.DropOneLMLoss)
		plans := map[string]Plan{
			"ffn":         {FFN: cfg.FFN * 5 / 8},
			"heads":       {HeadsPerGroup: 1},
			"depth":       {Layers: cfg.NumLayers - 1},
			"depth-bi":    {Layers: cfg.NumLayers - 1, LayerScore: LayerScoreBI},
			"drop-layers": {DropLayers: []int{0}},
			"drop-block":  {DropBlock: 1},
			"hidden":      {Hidden: cfg.Hidden * 3 / 4},
			"all":         {Hidden: cfg.Hidden / 2, FFN: cfg.FFN / 2, HeadsPerGroup: 1, Layers: cfg.NumLayers - 1},
			"round":       {Hidden: 40, FFN: 100, Round: 16},
		}
		for pname, p := range plans {
			t.Run(name+"/"+pname, func(t *testing.T) {
				pr, err := Apply(f.m, p, &imp)
				if err != nil {
					t.Fatal(err)
				}
				mv, err := MaskedView(cfg, p, &imp)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc([][]int{mv.Kept.Layers, mv.Kept.Hidden}, [][]int{pr.Kept.Layers, pr.Kept.Hidden}, slices.Equal) {
					t.Fatalf("MaskedView and Apply kept different units")
				}
				pruned := logits(t, b, pr.Model, f.ids, nil)
				masked := logits(t, b, f.m, f.ids, mv)
				d := relDiff(t, pruned, masked)
				if !(d <= maskTolerance) {
					t.Errorf("pruned vs masked: relative max diff %.3g > %.0e", d, maskTolerance)
				}
				if dd := relDiff(t, pruned, logits(t, b, f.m, f.ids, mv.Dense(cfg))); !(dd <= maskTolerance) {
					t.Errorf("pruned vs dense masked view: relative max diff %.3g > %.0e", dd, maskTolerance)
				}
				if changed := relDiff(t, pruned, plain); changed < 1e-4 {
					t.Errorf("plan %+v barely changed the logits (%.3g): test would not catch a wrong cut", p, changed)
				}
				t.Logf("%s: params %d → %d, pruned vs masked %.2g, vs unpruned %.2g",
					pname, cfg.Params().Total, pr.Model.Config.Params().Total, d, relDiff(t, pruned, plain))
			})
		}
	}
}

// TestNoOpPlanIsExact: the zero plan reproduces the original logits bit for
// bit, and the result shares no tensor with the source.
func TestNoOpPlanIsExact(t *testing.T) {
	b := testBackend(t)
	for _, name := range fixtureNames {
		f := loadFixture(t, name)
		pr, err := Apply(f.m, Plan{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := relDiff(t, logits(t, b, pr.Model, f.ids, nil), logits(t, b, f.m, f.ids, nil)); d != 0 {
			t.Errorf("%s: no-op plan changed the logits by %.3g", name, d)
		}
		for n, w := range pr.Model.Weights {
			if w == f.m.Weights[n] {
				t.Errorf("%s: tensor %s is shared with the source", name, n)
			}
		}
	}
}

// TestHiddenKeepsTopChannels: hidden pruning keeps exactly the top-scored
// channels, and the pruned model runs with finite logits.
func TestHiddenKeepsTopChannels(t *testing.T) {
	b := testBackend(t)
	f := loadFixture(t, "dev-llama3-headdim-tied-bf16")
	k := 40
	order := iota(len(f.imp.Hidden))
	sort.Slice(order, func(i, j int) bool { return f.imp.Hidden[order[i]] > f.imp.Hidden[order[j]] })
	want := slices.Clone(order[:k])
	slices.Sort(want)
	pr, err := Apply(f.m, Plan{Hidden: k}, f.imp)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pr.Kept.Hidden, want) {
		t.Errorf("kept hidden %v, want top-%d %v", pr.Kept.Hidden, k, want)
	}
	if c := pr.Model.Config; c.Hidden != k || c.HeadDim != 24 || c.NumHeads*c.HeadDim == c.Hidden {
		t.Errorf("config after hidden pruning: hidden %d head_dim %d heads %d", c.Hidden, c.HeadDim, c.NumHeads)
	}
	for _, v := range tensors.MustCopyFlatData[float32](logits(t, b, pr.Model, f.ids, nil)) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("non-finite logits after hidden pruning")
		}
	}
}
