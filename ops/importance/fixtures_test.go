package importance

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// refTolerance is the bound per axis: max |ours − ref| ≤ refTolerance × max |ref|.
const refTolerance = 1e-3

var fixtureNames = fixtures.Names

var fixtureDir = fixtures.Dir

// testModel is a fixture checkpoint with its references.
type testModel struct {
	name    string
	cfg     *llm.Config
	weights map[string]*tensors.Tensor // float32
	ids     [][]int32                  // reference input_ids [4][32]
	ref     *results.Importance
}

func loadTestModel(t testing.TB, name string) *testModel {
	t.Helper()
	dir := fixtureDir(name)
	cfg, err := llm.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := &testModel{name: name, cfg: cfg, weights: fixtures.ReadSafetensors(t, filepath.Join(dir, "model.safetensors"))}
	m.ids = fixtures.Rows(fixtures.InputIDs(t, name))
	m.ref = fixtures.ImportanceIn(t, dir)
	return m
}

// checkAxis compares one axis (flattened) with the reference.
func checkAxis(t *testing.T, what string, got, ref []float64) {
	t.Helper()
	if len(got) != len(ref) {
		t.Errorf("%s: %d values, reference %d", what, len(got), len(ref))
		return
	}
	var maxRef, maxErr float64
	for i := range ref {
		maxRef = math.Max(maxRef, math.Abs(ref[i]))
		maxErr = math.Max(maxErr, math.Abs(got[i]-ref[i]))
	}
	if maxErr > refTolerance*maxRef {
		t.Errorf("%s: max abs error %.3g > %.0e × max|ref| %.4g", what, maxErr, refTolerance, maxRef)
	}
	if testing.Verbose() {
		t.Logf("%-16s max abs error %.2e = %.2e × max|ref|", what, maxErr, maxErr/maxRef)
	}
}

func flatten(m [][]float64) []float64 {
	var out []float64
	for _, r := range m {
		out = append(out, r...)
	}
	return out
}

// TestReproducesReferenceImportance: every fixture's reference_importance.json,
// with the 4 reference sequences as one batch of 4 and as two batches of 2
// (which must agree with each other to float32 rounding).
func TestReproducesReferenceImportance(t *testing.T) {
	backend := testBackend(t)
	for _, name := range fixtureNames {
		m := loadTestModel(t, name)
		byBatch := map[int]*Scores{}
		for _, batchSize := range []int{4, 2} {
			t.Run(fmt.Sprintf("%s/batch%d", name, batchSize), func(t *testing.T) {
				s, err := Estimate(backend, m.cfg, m.weights, &Calibration{IDs: m.ids},
					Options{BatchSize: batchSize, DropOne: true, ModelID: name})
				if err != nil {
					t.Fatal(err)
				}
				byBatch[batchSize] = s
				checkAxis(t, "ffn", flatten(s.FFN), flatten(m.ref.FFN))
				checkAxis(t, "heads", flatten(s.Heads), flatten(m.ref.Heads))
				checkAxis(t, "hidden", s.Hidden, m.ref.Hidden)
				checkAxis(t, "bi", s.BI, m.ref.BI)
				checkAxis(t, "drop_one_lm_loss", s.DropOneLMLoss, m.ref.DropOneLMLoss)
				checkAxis(t, "lm_loss", []float64{s.LMLoss}, []float64{m.ref.LMLoss})
				if s.Samples != 4 || s.Tokens != 4*32 || s.SeqLen != 32 || s.BatchAgg != "l2" || s.SeqAgg != "mean" || s.Model != name {
					t.Errorf("metadata: samples %d tokens %d seq_len %d agg %s/%s model %q", s.Samples, s.Tokens, s.SeqLen, s.BatchAgg, s.SeqAgg, s.Model)
				}
				if len(s.HeadRankByGroup) != m.cfg.NumLayers || len(s.HeadRankByGroup[0]) != m.cfg.NumKVHeads {
					t.Errorf("head_rank_by_group has shape %d×%d, want %d×%d", len(s.HeadRankByGroup), len(s.HeadRankByGroup[0]), m.cfg.NumLayers, m.cfg.NumKVHeads)
				}
			})
		}
		t.Run(name+"/batch4=batch2", func(t *testing.T) {
			a, b := byBatch[4], byBatch[2]
			if a == nil || b == nil {
				t.Skip("a run failed")
			}
			checkSame(t, "ffn", flatten(a.FFN), flatten(b.FFN))
			checkSame(t, "heads", flatten(a.Heads), flatten(b.Heads))
			checkSame(t, "hidden", a.Hidden, b.Hidden)
			checkSame(t, "bi", a.BI, b.BI)
			checkSame(t, "drop_one_lm_loss", a.DropOneLMLoss, b.DropOneLMLoss)
			checkSame(t, "lm_loss", []float64{a.LMLoss}, []float64{b.LMLoss})
		})
	}
}

// sameTolerance bounds the relative difference of two computations of the
// same scores that differ only in float32 summation order.
const sameTolerance = 1e-5

func checkSame(t *testing.T, what string, a, b []float64) {
	t.Helper()
	for i := range a {
		if math.Abs(a[i]-b[i]) > sameTolerance*math.Max(1, math.Abs(a[i])) {
			t.Errorf("%s[%d]: %.7g vs %.7g", what, i, a[i], b[i])
			return
		}
	}
}
