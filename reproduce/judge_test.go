package reproduce

import (
	"testing"

	"github.com/gominitron/gominitron/results"
)

// Synthetic per-seed numbers for the judges: a clear effect (every seed
// agrees, spread far below the difference), noise (the difference within
// the seed spread) and single-seed disagreement.
var (
	three      = []uint64{1, 1001, 2001}
	low        = []float64{5.00, 5.01, 4.99}
	high       = []float64{5.20, 5.22, 5.19}
	noisyA     = []float64{5.00, 5.10, 4.95}
	noisyB     = []float64{5.02, 5.00, 5.01}
	oneAgainst = []float64{5.20, 5.22, 4.98} // vs low: seed 3 disagrees
)

// judgeCase is one synthetic report and the verdict its judge must give.
type judgeCase struct {
	name       string
	exp        string
	details    any
	reproduced bool
}

func TestJudgesOnSyntheticRuns(t *testing.T) {
	shape := results.Shape{NumLayers: 4, Hidden: 96, FFN: 192, NumHeads: 2, NumKVHeads: 2, Params: 500000}
	student := func(name string, step0, final []float64) StudentResult {
		return StudentResult{Name: name, Shape: shape, LossAtStep0: step0, FinalLoss: final}
	}
	aggRows := func(best, worst, other []float64) []AggregationRow {
		var rows []AggregationRow
		for _, b := range []string{"l2", "mean", "var"} {
			for _, s := range []string{"l2", "mean", "var"} {
				v := other
				switch {
				case b == "l2" && s == "mean":
					v = best
				case b == "var" && s == "var":
					v = worst
				}
				rows = append(rows, AggregationRow{Batch: b, Seq: s, LossAfterPrune: v, LossAfterKD: v})
			}
		}
		return rows
	}
	mid := []float64{5.10, 5.11, 5.09}
	aggBeaten := aggRows(mid, high, mid)
	aggBeaten[4].LossAfterPrune = low // (mean, mean) clearly below (L2, mean)
	depthRow := func(name string, acc, accKD []float64) DepthChoiceRow {
		return DepthChoiceRow{Name: name, Dropped: [][]int{{1, 2}, {1, 2}, {1, 2}}, AccAfterPrune: acc, AccStderr: []float64{0.03, 0.03, 0.03},
			LossAfterPrune: low, AccAfterKD: accKD, LossAfterKD: low}
	}
	accHigh, accLow, accNoisy := []float64{0.60, 0.62, 0.61}, []float64{0.40, 0.41, 0.39}, []float64{0.45, 0.30, 0.47}
	scratch := func(pruned, randomKD, randomLM []float64) *ScratchResult {
		return &ScratchResult{Shape: shape, Steps: 100, Tokens: 1000, PeakLR: 1e-3, Arms: []ScratchArm{
			{Name: "pruned + distilled", LossAtStep0: pruned, FinalLoss: pruned},
			{Name: "random init + distilled", LossAtStep0: randomKD, FinalLoss: randomKD},
			{Name: "random init + LM loss", LossAtStep0: randomLM, FinalLoss: randomLM}}}
	}
	iterative := func(one, two, four []float64) *IterativeResult {
		return &IterativeResult{Steps: 100, Rows: []IterativeRow{
			{Rounds: 1, LossAtStep0: one, FinalLoss: one}, {Rounds: 2, LossAtStep0: two, FinalLoss: two}, {Rounds: 4, LossAtStep0: four, FinalLoss: four}}}
	}
	family := func(chain, direct []float64) *FamilyResult {
		return &FamilyResult{Steps: 100, HalfSteps: 50, HalfFinal: low, ChainStep0: high, DirectStep0: high, ChainFinal: chain, DirectFinal: direct}
	}
	// search: 3 candidates a, b, c (columns) evaluated at steps 0, 50, 100
	// (rows). "reorders": the
	// step-0 ranking is the reverse of the final one and step 50 already
	// matches it; "trivial": the step-0 ranking is already the final one.
	reorders := [][3]float64{{6.0, 6.1, 6.2}, {5.3, 5.2, 5.1}, {5.2, 5.1, 5.0}}
	trivial := [][3]float64{{6.2, 6.1, 6.0}, {5.3, 5.2, 5.1}, {5.2, 5.1, 5.0}}
	lateFix := [][3]float64{{6.0, 6.1, 6.2}, {5.1, 5.2, 5.3}, {5.2, 5.1, 5.0}}
	search := func(curves ...[][3]float64) *SearchResult {
		res := &SearchResult{Budget: 500000, Tolerance: 0.05, Enumerated: 10, Steps: 100}
		for k, c := range curves {
			var cands []results.Candidate
			for i, name := range []string{"a", "b", "c"} {
				cand := results.Candidate{Name: name, Shape: shape, Params: shape.Params}
				for j, step := range []int{0, 50, 100} {
					cand.Losses = append(cand.Losses, results.StepLoss{Step: step, Loss: c[j][i]})
				}
				cands = append(cands, cand)
			}
			ss := SearchSeed{Seed: three[k%3], Candidates: cands}
			ss.Best, ss.Agreement, ss.StableStep = rankAgreement(cands)
			res.Seeds = append(res.Seeds, ss)
		}
		return res
	}
	for _, tc := range []judgeCase{
		{"kd-vs-ce clear", ExpKDvsCE, &KDvsCEResult{Shape: shape, Steps: 100, LossAtStep0: high, KD: low, CE: high}, true},
		{"kd-vs-ce noise", ExpKDvsCE, &KDvsCEResult{Shape: shape, Steps: 100, LossAtStep0: high, KD: noisyA, CE: noisyB}, false},
		{"kd-vs-ce one seed against", ExpKDvsCE, &KDvsCEResult{Shape: shape, Steps: 100, LossAtStep0: high, KD: low, CE: oneAgainst}, false},
		{"width-vs-depth clear", ExpWidthDepth, &WidthDepthResult{Steps: 100, Students: []StudentResult{student("depth", low, high), student("width", high, low)}}, true},
		{"width-vs-depth depth not lower at step 0", ExpWidthDepth, &WidthDepthResult{Steps: 100, Students: []StudentResult{student("depth", noisyA, high), student("width", noisyB, low)}}, false},
		{"width-vs-depth width not lower after KD", ExpWidthDepth, &WidthDepthResult{Steps: 100, Students: []StudentResult{student("depth", low, noisyA), student("width", high, noisyB)}}, false},
		{"iterative same within noise", ExpIterative, iterative(noisyA, noisyB, noisyA), true},
		{"iterative 4 rounds better", ExpIterative, iterative(high, high, low), false},
		{"iterative two seeds undecided", ExpIterative, iterative(noisyA[:2], noisyB[:2], noisyA[:2]), false},
		{"scratch clear", ExpScratch, scratch(low, high, high), true},
		{"scratch init within noise", ExpScratch, scratch(noisyA, noisyB, high), false},
		{"family-chain clear", ExpFamilyChain, family(low, high), true},
		{"family-chain reversed", ExpFamilyChain, family(high, low), false},
		{"aggregation clear", ExpAggregation, &AggregationResult{ShortSteps: 10, Rows: aggRows(low, high, mid)}, true},
		{"aggregation best beaten", ExpAggregation, &AggregationResult{ShortSteps: 10, Rows: aggBeaten}, false},
		{"aggregation ends within noise", ExpAggregation, &AggregationResult{ShortSteps: 10, Rows: aggRows(noisyA, noisyB, noisyA)}, false},
		{"depth-choice clear", ExpDepthChoice, &DepthChoiceResult{Steps: 100, Items: 200, Rows: []DepthChoiceRow{depthRow("block", accHigh, accHigh), depthRow("layers", accLow, accLow)}}, true},
		{"depth-choice gap gone after KD", ExpDepthChoice, &DepthChoiceResult{Steps: 100, Items: 200, Rows: []DepthChoiceRow{depthRow("block", accHigh, accNoisy), depthRow("layers", accLow, accLow)}}, false},
		{"search reorders then settles", ExpSearch, search(reorders, reorders, reorders), true},
		{"search step 0 already final", ExpSearch, search(trivial, trivial, trivial), false},
		{"search settles only at the end", ExpSearch, search(lateFix, lateFix, lateFix), false},
		{"search one seed trivial", ExpSearch, search(reorders, reorders, trivial), false},
	} {
		r := &Report{Experiment: tc.exp, Seeds: three, Details: tc.details}
		if err := Rejudge(r); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Reproduced != tc.reproduced || r.Verdict == "" || len(r.Rows) == 0 {
			t.Errorf("%s: reproduced %v, want %v; verdict %q", tc.name, r.Reproduced, tc.reproduced, r.Verdict)
		}
	}
	// Malformed stored results are errors naming the experiment's need, not panics.
	for exp, details := range map[string]any{
		ExpWidthDepth:  &WidthDepthResult{Students: []StudentResult{student("depth", low, high)}},
		ExpIterative:   &IterativeResult{Rows: []IterativeRow{{Rounds: 2}}},
		ExpScratch:     &ScratchResult{},
		ExpAggregation: &AggregationResult{},
		ExpDepthChoice: &DepthChoiceResult{},
		ExpSearch:      &SearchResult{},
		ExpKDvsCE:      map[string]any{"unknown_field": 1},
	} {
		if err := Rejudge(&Report{Experiment: exp, Seeds: three, Details: details}); err == nil {
			t.Errorf("%s: malformed details accepted", exp)
		}
	}
}
