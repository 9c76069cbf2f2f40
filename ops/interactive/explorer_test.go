package interactive

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/results"

	"github.com/gominitron/gominitron/internal/fixtures"
)

const (
	fixtureDir = "../../testdata/hf/dev-llama-gqa"
	// lossTolerance: masked-view loss vs the materialized model's loss and
	// the fixture's transformers lm_loss (float32 summation order only).
	lossTolerance = 1e-4
	// klTolerance: KL of the full model against itself, and masked vs
	// materialized KL.
	klTolerance = 1e-5
)

type fixture struct {
	backend compute.Backend
	model   *llm.Model
	imp     *results.Importance
	ids     [][]int32
}

func loadFixture(t testing.TB) *fixture {
	t.Helper()
	m, err := llm.LoadModel(fixtureDir, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	ids := fixtures.Rows(fixtures.InputIDsIn(t, fixtureDir))
	return &fixture{backend: fixtures.Backend(t), model: m, imp: fixtures.ImportanceIn(t, fixtureDir), ids: ids}
}

// explorer opens an Explorer on the fixture's model and scores for ids,
// closed when the test ends.
func (fx *fixture) explorer(t testing.TB, ids [][]int32) *Explorer {
	t.Helper()
	e, err := New(fx.backend, fx.model, fx.imp, ids, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// hostLogProbs runs m on ids and returns log-softmax rows [batch][seq][vocab].
func hostLogProbs(t *testing.T, b compute.Backend, m *llm.Model, ids [][]int32) [][][]float64 {
	t.Helper()
	r, err := llm.NewRunner(b, m)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	logits, err := r.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	flat := tensors.MustCopyFlatData[float32](logits)
	batchSize, seqLen, vocab := logits.Shape().Dim(0), logits.Shape().Dim(1), logits.Shape().Dim(2)
	out := make([][][]float64, batchSize)
	for i := range out {
		out[i] = make([][]float64, seqLen)
		for s := range seqLen {
			row := flat[(i*seqLen+s)*vocab : (i*seqLen+s+1)*vocab]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = max(mx, float64(v))
			}
			var sum float64
			for _, v := range row {
				sum += math.Exp(float64(v) - mx)
			}
			lp := make([]float64, vocab)
			for j, v := range row {
				lp[j] = float64(v) - mx - math.Log(sum)
			}
			out[i][s] = lp
		}
	}
	return out
}

// hostLossKL: next-token loss of q and mean KL(p ‖ q) over all positions.
func hostLossKL(p, q [][][]float64, ids [][]int32) (loss, kl float64) {
	var n, m int
	for i := range q {
		for s := range q[i] {
			if s+1 < len(ids[i]) {
				loss -= q[i][s][ids[i][s+1]]
				n++
			}
			for v := range q[i][s] {
				kl += math.Exp(p[i][s][v]) * (p[i][s][v] - q[i][s][v])
			}
			m++
		}
	}
	return loss / float64(n), kl / float64(m)
}

func TestExplorerMatchesMaterializedModels(t *testing.T) {
	fx := loadFixture(t)
	e := fx.explorer(t, fx.ids)
	full := e.Full()
	if math.Abs(full.Loss-fx.imp.LMLoss) > lossTolerance || full.KL > klTolerance {
		t.Fatalf("full model: loss %.6f (transformers %.6f), KL %.2e", full.Loss, fx.imp.LMLoss, full.KL)
	}
	if full.Params != fx.model.Config.Params().Total || full.ParamsRatio != 1 {
		t.Fatalf("full params %d ratio %v", full.Params, full.ParamsRatio)
	}
	refLP := hostLogProbs(t, fx.backend, fx.model, fx.ids)
	plans := []prune.Plan{
		{FFN: 88},
		{HeadsPerGroup: 1},
		{Hidden: 48},
		{Layers: 1},
		{DropLayers: []int{0}},
		{Hidden: 40, FFN: 64, HeadsPerGroup: 1, Layers: 1},
	}
	for _, p := range plans {
		r, err := e.Evaluate(p)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		pr, err := prune.Apply(fx.model, p, fx.imp)
		if err != nil {
			t.Fatal(err)
		}
		wantLoss, wantKL := hostLossKL(refLP, hostLogProbs(t, fx.backend, pr.Model, fx.ids), fx.ids)
		if math.Abs(r.Loss-wantLoss) > lossTolerance*max(1, wantLoss) || math.Abs(r.KL-wantKL) > klTolerance+1e-4*wantKL {
			t.Errorf("%+v: masked loss %.6f KL %.6f, materialized model loss %.6f KL %.6f", p, r.Loss, r.KL, wantLoss, wantKL)
		}
		if r.Loss == full.Loss || r.KL < 1e-4 {
			t.Errorf("%+v: plan did not change the loss (%.6f) or KL (%.2e)", p, r.Loss, r.KL)
		}
		if r.Params != pr.Model.Config.Params().Total || r.Shape.Hidden != pr.Model.Config.Hidden || r.Shape.NumLayers != pr.Model.Config.NumLayers {
			t.Errorf("%+v: estimate %+v params %d, materialized %d", p, r.Shape, r.Params, pr.Model.Config.Params().Total)
		}
		if want := pr.Model.Config.WeightBytes(dtypes.Float32); r.WeightBytes != want {
			t.Errorf("%+v: weight bytes %d, want %d", p, r.WeightBytes, want)
		}
		if want := pr.Model.Config.KVCacheBytesPerToken(dtypes.Float32); r.KVCacheBytesPerToken != want {
			t.Errorf("%+v: KV bytes %d, want %d", p, r.KVCacheBytesPerToken, want)
		}
		if len(r.DroppedLayers) != fx.model.Config.NumLayers-pr.Model.Config.NumLayers {
			t.Errorf("%+v: dropped %v", p, r.DroppedLayers)
		}
	}
	if n := e.Compilations(); n != 1 {
		t.Fatalf("masked graph compiled %d times for %d plans, want 1", n, len(plans)+1)
	}
}

func TestSweepAndPresets(t *testing.T) {
	fx := loadFixture(t)
	e := fx.explorer(t, fx.ids[:2])
	ps := Presets(fx.model.Config)
	if len(ps) < 5 || ps[0].Name != "full model" {
		t.Fatalf("presets %+v", ps)
	}
	rs, err := e.Sweep(ps)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs[1:] {
		if r.Params >= rs[0].Params || r.Loss == rs[0].Loss {
			t.Errorf("preset %q: params %d loss %.4f vs full %d %.4f", ps[i+1].Name, r.Params, r.Loss, rs[0].Params, rs[0].Loss)
		}
	}
	if e.Tokens() != 2*len(fx.ids[0]) || e.Compilations() != 1 {
		t.Fatalf("tokens %d compilations %d", e.Tokens(), e.Compilations())
	}
}

func TestMaterialize(t *testing.T) {
	fx := loadFixture(t)
	e := fx.explorer(t, fx.ids[:1])
	p := prune.Plan{Hidden: 48, FFN: 96, HeadsPerGroup: 1, Layers: 1}
	out := filepath.Join(t.TempDir(), "pruned")
	lin, err := e.Materialize(p, out, fixtureDir, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.LoadModel(out, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := e.Estimate(p)
	if c := m.Config; c.Hidden != 48 || c.FFN != 96 || c.NumLayers != 1 || c.NumHeads != 2 || c.Params().Total != r.Params || lin.To.Params != r.Params {
		t.Fatalf("exported config %+v, lineage %+v, estimate %d", c, lin.To, r.Params)
	}
	if _, err := os.Stat(filepath.Join(out, prune.LineageFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Materialize(p, out, fixtureDir, ""); err == nil {
		t.Fatal("exported over a non-empty folder")
	}
}

func TestErrors(t *testing.T) {
	fx := loadFixture(t)
	cases := []struct {
		name string
		ids  [][]int32
		want string
	}{
		{"empty", nil, "no sequences"},
		{"short", [][]int32{{1}}, "at least 2"},
		{"vocab", [][]int32{{1, 512}}, "outside the vocabulary"},
	}
	for _, c := range cases {
		if _, err := New(fx.backend, fx.model, fx.imp, c.ids, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	bad := *fx.imp
	bad.BI = bad.BI[:1]
	if _, err := New(fx.backend, fx.model, &bad, fx.ids, Options{}); err == nil {
		t.Error("scores with the wrong number of layers accepted")
	}
	e := fx.explorer(t, [][]int32{{1, 2, 3}, {4, 5}})
	if _, err := e.Evaluate(prune.Plan{Hidden: 900}); err == nil || !strings.Contains(err.Error(), "hidden 900") {
		t.Errorf("too large hidden: %v", err)
	}
	if e.Tokens() != 5 {
		t.Errorf("ragged batch: %d valid tokens, want 5", e.Tokens())
	}
}

func BenchmarkEvaluate(b *testing.B) {
	fx := loadFixture(b)
	e := fx.explorer(b, fx.ids)
	p := prune.Plan{Hidden: 48, FFN: 96, HeadsPerGroup: 1, Layers: 1}
	for b.Loop() {
		if _, err := e.Evaluate(p); err != nil {
			b.Fatal(err)
		}
	}
}
