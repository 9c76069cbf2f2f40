package importance

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/results"
)

// spearmanTolerance is the float tolerance of hand-known correlations.
const spearmanTolerance = 1e-12

// TestRankCorrelations checks Spearman's ρ and Kendall's τ-b on
// hand-computed cases.
func TestRankCorrelations(t *testing.T) {
	for _, tc := range []struct {
		name              string
		a, b              []float64
		spearman, kendall float64
	}{
		{"identical", []float64{3, 1, 2}, []float64{3, 1, 2}, 1, 1},
		{"monotone transform", []float64{1, 2, 3, 4}, []float64{10, 200, 3000, 40000}, 1, 1},
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1, -1},
		// ρ: ranks a = 1,2,3,4,5; b = 2,1,4,3,5 → Σd² = 4 → 1 − 6·4/(5·24) = 0.8
		// τ: 10 pairs, 2 discordant ((0,1), (2,3)) → (8 − 2)/10
		{"two swaps", []float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5}, 0.8, 0.6},
		// ρ: rank differences 1, −1, 0, 0 → 1 − 6·2/(4·15) = 0.8
		// τ: 6 pairs, one discordant (0,1): (5 − 1)/6
		{"one swap", []float64{1, 2, 3, 4}, []float64{2, 1, 3, 4}, 0.8, 2.0 / 3},
		// ρ: a ranks 1.5,1.5,3; b ranks 1,2,3 → Pearson = √3/2
		// τ: pair (0,1) tied in a only, 2 concordant: 2/√(2·3)
		{"tie in one", []float64{1, 1, 2}, []float64{1, 2, 3}, math.Sqrt(3) / 2, 2 / math.Sqrt(6)},
		// τ: pair (0,1) tied in both; 4 concordant, 1 discordant: 3/√(5·5)
		// ρ: ranks a = 1.5,1.5,3,4; b = 1.5,1.5,4,3 (mean 2.5) → cov 3.5, var 4.5 each → 7/9
		{"tie in both", []float64{1, 1, 2, 3}, []float64{1, 1, 3, 2}, 7.0 / 9, 0.6},
		{"both constant", []float64{5, 5, 5}, []float64{2, 2, 2}, 1, 1},
		{"one constant", []float64{5, 5, 5}, []float64{1, 2, 3}, 0, 0},
	} {
		rho, err := Spearman(tc.a, tc.b)
		if err != nil || math.Abs(rho-tc.spearman) > spearmanTolerance {
			t.Errorf("%s: Spearman = %v, %v; want %v", tc.name, rho, err, tc.spearman)
		}
		tau, err := KendallTau(tc.a, tc.b)
		if err != nil || math.Abs(tau-tc.kendall) > spearmanTolerance {
			t.Errorf("%s: KendallTau = %v, %v; want %v", tc.name, tau, err, tc.kendall)
		}
	}
	for name, f := range map[string]func(a, b []float64) (float64, error){"Spearman": Spearman, "KendallTau": KendallTau} {
		if _, err := f([]float64{1}, []float64{1, 2}); err == nil {
			t.Errorf("%s: length mismatch not reported", name)
		}
		if _, err := f(nil, nil); err == nil {
			t.Errorf("%s: empty vectors not reported", name)
		}
	}
}

func TestHeadRankingByGroup(t *testing.T) {
	heads := [][]float64{
		{0.1, 0.9, 0.5, 0.3, 0.3, 0.8}, // 2 KV groups of 3 query heads
		{3, 2, 1, 4, 5, 6},
	}
	got, err := HeadRankingByGroup(heads, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := [][][]int{
		{{1, 2, 0}, {5, 3, 4}}, // tie 0.3/0.3 keeps the lower index first
		{{0, 1, 2}, {5, 4, 3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HeadRankingByGroup = %v, want %v", got, want)
	}
	if _, err := HeadRankingByGroup(heads, 4); err == nil {
		t.Error("6 heads in 4 groups not reported")
	}
}

// TestRankStabilityOfIdenticalPartsIsOne: the calibration set is the same
// two sequences twice, dealt into two parts → every axis correlates 1.
func TestRankStabilityOfIdenticalPartsIsOne(t *testing.T) {
	backend := testBackend(t)
	m := loadTestModel(t, "dev-llama-gqa")
	calib := &Calibration{IDs: [][]int32{m.ids[0], m.ids[1], m.ids[0], m.ids[1]}}
	s, err := Estimate(backend, m.cfg, m.weights, calib, Options{BatchSize: 2, Parts: 2})
	if err != nil {
		t.Fatal(err)
	}
	rs := s.RankStability
	if rs == nil || rs.Parts != 2 || len(rs.Pairs) != 1 || rs.SamplesPerPart != 2 {
		t.Fatalf("rank stability %+v", rs)
	}
	for _, axis := range Axes {
		v, ok := rs.Pairs[0].Spearman[axis]
		if !ok || math.Abs(v-1) > spearmanTolerance {
			t.Errorf("%s: Spearman %v (present %v), want 1", axis, v, ok)
		}
		if sum := s.StabilitySummary[axis]; math.Abs(sum.Mean-1) > spearmanTolerance || math.Abs(sum.Min-1) > spearmanTolerance {
			t.Errorf("%s: summary %+v, want mean=min=1", axis, sum)
		}
	}

	// Different data in each part: correlations are below 1 but the total is
	// still the merge of the parts (same as without parts).
	calib = &Calibration{IDs: m.ids}
	withParts, err := Estimate(backend, m.cfg, m.weights, calib, Options{BatchSize: 1, Parts: 4})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(withParts.RankStability.Pairs); n != 6 {
		t.Errorf("4 parts give %d pairs, want 6", n)
	}
	if withParts.StabilitySummary[AxisFFN].Min >= 1 {
		t.Errorf("different sequences gave a perfect FFN correlation %v", withParts.StabilitySummary[AxisFFN])
	}
	plain, err := Estimate(backend, m.cfg, m.weights, calib, Options{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ffn with/without parts", flatten(withParts.FFN), flatten(plain.FFN))

	if _, err := Estimate(backend, m.cfg, m.weights, calib, Options{BatchSize: 4, Parts: 2}); err == nil {
		t.Error("2 parts of a single batch not reported")
	}
}

func TestBlockSweepSkipPatterns(t *testing.T) {
	var seen []string
	score := func(skip []bool) (float64, error) {
		seen = append(seen, skipString(skip))
		return float64(len(seen)), nil
	}
	got, err := BlockSweep(5, 2, score, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantSeen := []string{"[0 1]", "[1 2]", "[2 3]", "[3 4]"}
	if !reflect.DeepEqual(seen, wantSeen) || !reflect.DeepEqual(got, []float64{1, 2, 3, 4}) {
		t.Errorf("BlockSweep: skips %v values %v", seen, got)
	}
	seen = nil
	if _, err := DropOne(3, score, nil); err != nil || !reflect.DeepEqual(seen, []string{"[0]", "[1]", "[2]"}) {
		t.Errorf("DropOne: skips %v, %v", seen, err)
	}
	if _, err := BlockSweep(3, 4, score, nil); err == nil {
		t.Error("block larger than the model not reported")
	}
}

// TestBlockScorerAndLMLossScorer: a custom scoring function sees the same
// sweep; LMLossScorer with one block removed equals block_lm_loss.
func TestBlockScorerAndLMLossScorer(t *testing.T) {
	backend := testBackend(t)
	m := loadTestModel(t, "dev-llama3-headdim-tied-bf16") // 3 layers
	calib := &Calibration{IDs: m.ids[:2]}
	lossFn, err := LMLossScorer(backend, m.cfg, m.weights, calib, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Estimate(backend, m.cfg, m.weights, calib, Options{BatchSize: 2, BlockSize: 2,
		BlockScorer: &BlockScorer{Score: lossFn, Metric: "lm_loss"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.BlockLMLoss) != 2 || s.BlockScores == nil || len(s.BlockScores.Values) != 2 || s.BlockScores.Baseline == nil {
		t.Fatalf("block_lm_loss %v block_scores %+v", s.BlockLMLoss, s.BlockScores)
	}
	checkSame(t, "block scorer = block_lm_loss", s.BlockScores.Values, s.BlockLMLoss)
	checkSame(t, "baseline = lm_loss", []float64{*s.BlockScores.Baseline}, []float64{s.LMLoss})
	if s.BlockLMLoss[0] == s.BlockLMLoss[1] {
		t.Errorf("removing different blocks gave the same loss %v", s.BlockLMLoss)
	}
}

func TestScoresSaveLoad(t *testing.T) {
	// A plain reference file loads.
	ref := fixtures.ImportanceIn(t, fixtureDir("dev-llama-gqa"))
	if len(ref.BI) != 2 || len(ref.FFN) != 2 || ref.HeadRankByGroup != nil {
		t.Errorf("reference loaded as %+v", ref)
	}
	backend := testBackend(t)
	m := loadTestModel(t, "dev-llama-gqa")
	s, err := Estimate(backend, m.cfg, m.weights, &Calibration{IDs: m.ids}, Options{BatchSize: 2, DropOne: true, BlockSize: 1, Parts: 2, ModelID: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	// Save writes every score, the rankings and the stability summary, and
	// results.LoadImportance (strict about keys) reads them all back.
	path := filepath.Join(t.TempDir(), "sub", "scores.json")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := results.LoadImportance(path)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Created.Equal(s.Created) || !reflect.DeepEqual(back.FFN, s.FFN) || !reflect.DeepEqual(back.HeadRankByGroup, s.HeadRankByGroup) ||
		!reflect.DeepEqual(back.RankStability, s.RankStability) || !reflect.DeepEqual(back.StabilitySummary, s.StabilitySummary) ||
		!reflect.DeepEqual(back.BlockLMLoss, s.BlockLMLoss) || !reflect.DeepEqual(back.Hidden, s.Hidden) ||
		back.Model != "dev" || back.NumKVHeads != 2 || back.Tokens != s.Tokens || len(back.HeadRankByGroup) != 2 {
		t.Errorf("round trip changed the scores:\n%+v\n%+v", back, s)
	}
	checkSame(t, "lm_loss", []float64{back.LMLoss}, []float64{s.LMLoss})
	// Missing drop_one_lm_loss cannot be saved (results.Importance requires it).
	s.DropOneLMLoss = nil
	if err := s.Save(path); err == nil {
		t.Error("saving scores without drop_one_lm_loss did not fail")
	}
}
