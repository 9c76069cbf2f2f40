package reproduce

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/results"
)

// Synthetic stored results of the blog's five experiments (issue 18), built
// from the per-seed numbers of judge_test.go (low, high, noisyA, noisyB,
// oneAgainst: a clear effect, noise, one seed disagreeing).

func correctionResult(original, corrected []float64) *CorrectionResult {
	return &CorrectionResult{Corpus: "data/nlp/nlp.jsonl", TeacherCorpus: "data/brown/brown.jsonl", CorrectionLR: 4e-4, CorrectionSteps: 100, Steps: 100,
		Arms: []CorrectionArm{
			{Teacher: teacherOriginal, TeacherLoss: 5.77, TeacherLossOrig: 4.83, Student: "L4 h96 f308 q4/kv2", LossAtStep0: high, Final: original},
			{Teacher: teacherCorrected, TeacherLoss: 5.20, TeacherLossOrig: 4.90, Student: "L4 h96 f308 q4/kv2", LossAtStep0: high, Final: corrected}}}
}

func depthLossesResult(depthLogits, depthCombined, widthLogits, widthCombined []float64) *DepthLossesResult {
	return &DepthLossesResult{Steps: 100, Students: []DepthLossStudent{
		{Name: "depth", Shape: "L2 h128 f352 q4/kv2", LayerMap: "0:1", LossAtStep0: high, Logits: depthLogits, Combined: depthCombined},
		{Name: "width", Shape: "L4 h96 f308 q4/kv2", LayerMap: "1:1", LossAtStep0: high, Logits: widthLogits, Combined: widthCombined}}}
}

func sdgResult(kd, sdg, both []float64) *SDGResult {
	shape := results.Shape{NumLayers: 4, Hidden: 96, FFN: 308, NumHeads: 4, NumKVHeads: 2, Params: 900000}
	return &SDGResult{Student: shape, PromptLen: 8, Sequences: 2400, Steps: 100, Arms: []SDGArm{
		{Name: armKD, Text: textCorpus, LossAtStep0: high, Final: kd},
		{Name: armSDG, Text: textTeacher, LossAtStep0: high, Final: sdg},
		{Name: armSDGPlusK, Text: textTeacher, LossAtStep0: high, Final: both}}}
}

// layerCurvesResult: a 4-layer teacher, block sizes 1, 2, 3; oneLayer[s] is
// the loss with layer s removed in the first seed, the other seeds add
// jitter[i] to every loss (so the paired differences are exact).
func layerCurvesResult(oneLayer []float64, jitter ...float64) *LayerCurvesResult {
	res := &LayerCurvesResult{BlockSizes: []int{1, 2, 3}}
	for i, j := range jitter {
		c := &importance.LayerCurves{NumLayers: 4, FullLoss: 4.6 + j}
		for _, k := range res.BlockSizes {
			curve := importance.LayerCurve{BlockSize: k}
			for s := range 4 - k + 1 {
				v := 5.0 + float64(k) + 0.1*float64(s)
				if k == 1 {
					v = oneLayer[s]
				}
				curve.Loss = append(curve.Loss, v+j)
			}
			c.Curves = append(c.Curves, curve)
		}
		res.Seeds = append(res.Seeds, three[i%3]+uint64(i/3))
		res.PerSeed = append(res.PerSeed, c)
	}
	return res
}

// throughputResult: the width and depth shapes' ratios to the 8B shape per
// round; tokens/s follow from an 8B throughput of 100.
func throughputResult(width, depth []float64) *ThroughputResult {
	res := &ThroughputResult{Sizes: ThroughputSizes{Batch: 8, InputLen: 128, OutputLen: 64, Repeats: len(width), DTypeName: "Float32"},
		Backend: "go", Shapes: []string{"8B shape", "width-4B shape", "depth-4B shape"}, Params: []int64{7870000, 4430000, 4460000},
		TokensPerSec: make([][]float64, 3), Ratio: make([][]float64, 3)}
	for i := range width {
		var row []*evaluate.BenchResult
		for s, ratio := range []float64{1, width[i], depth[i]} {
			b := &evaluate.BenchResult{TotalSeconds: 5.12 / ratio}
			b.PrefillTokensPerSec = 1000 * ratio
			row = append(row, b)
			res.TokensPerSec[s] = append(res.TokensPerSec[s], 100*ratio)
			res.Ratio[s] = append(res.Ratio[s], ratio)
		}
		res.Rounds = append(res.Rounds, row)
	}
	return res
}

var (
	edgesCostly = []float64{7.4, 4.7, 4.8, 5.5}  // layers 1 and 2 cheaper than 0 and 3
	lastCheap   = []float64{7.4, 4.7, 4.8, 4.75} // layer 2 costs more than the last layer (the demo teacher's shape)
	ratioW      = []float64{1.50, 1.60, 1.55}
	ratioD      = []float64{2.00, 2.10, 2.05}
	ratioNoisy  = []float64{1.40, 1.90, 1.50} // vs ratioW: 1/3 above, within the spread
)

func TestBlogJudgesOnSyntheticRuns(t *testing.T) {
	for _, tc := range []judgeCase{
		{"teacher-correction clear", ExpCorrection, correctionResult(high, low), true},
		{"teacher-correction noise", ExpCorrection, correctionResult(noisyB, noisyA), false},
		{"teacher-correction reversed", ExpCorrection, correctionResult(low, high), false},
		{"teacher-correction two seeds undecided", ExpCorrection, correctionResult(high[:2], low[:2]), false},
		{"depth-losses depth only", ExpDepthLosses, depthLossesResult(high, low, noisyB, noisyA), true},
		{"depth-losses width helped too", ExpDepthLosses, depthLossesResult(high, low, high, low), false},
		{"depth-losses depth within noise", ExpDepthLosses, depthLossesResult(noisyB, noisyA, noisyB, noisyA), false},
		{"depth-losses depth one seed against", ExpDepthLosses, depthLossesResult(oneAgainst, low, noisyB, noisyA), false},
		{"sdg-vs-kd complementary", ExpSDGvsKD, sdgResult(high, high, low), true},
		{"sdg-vs-kd combined only beats SDG", ExpSDGvsKD, sdgResult(low, high, low), false},
		{"sdg-vs-kd combined within noise of KD", ExpSDGvsKD, sdgResult(noisyB, high, noisyA), false},
		{"sdg-vs-kd one seed against", ExpSDGvsKD, sdgResult(oneAgainst, high, low), false},
		{"layer-curves edges most important", ExpLayerCurves, layerCurvesResult(edgesCostly, 0, 0.01, -0.01), true},
		{"layer-curves last layer cheap", ExpLayerCurves, layerCurvesResult(lastCheap, 0, 0.01, -0.01), false},
		{"layer-curves one draw undecided", ExpLayerCurves, layerCurvesResult(edgesCostly, 0), false},
		{"throughput depth > width > 8B", ExpThroughput, throughputResult(ratioW, ratioD), true},
		{"throughput depth within noise of width", ExpThroughput, throughputResult(ratioW, ratioNoisy), false},
		{"throughput width not faster", ExpThroughput, throughputResult([]float64{1.0, 1.02, 0.97}, ratioD), false},
		{"throughput two rounds undecided", ExpThroughput, throughputResult(ratioW[:2], ratioD[:2]), false},
	} {
		r := &Report{Experiment: tc.exp, Seeds: three, Details: tc.details}
		if err := Rejudge(r); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Reproduced != tc.reproduced || r.Verdict == "" || len(r.Rows) == 0 || len(r.Plots) == 0 {
			t.Errorf("%s: reproduced %v, want %v; %d rows, plots %v; verdict %q", tc.name, r.Reproduced, tc.reproduced, len(r.Rows), r.Plots, r.Verdict)
		}
	}
	// Malformed stored results are errors, not panics.
	badThroughput := throughputResult(ratioW, ratioD)
	badThroughput.Rounds[1][2] = nil
	badCurves := layerCurvesResult(edgesCostly, 0, 0.01, -0.01)
	badCurves.PerSeed[2].Curves[1].Loss = badCurves.PerSeed[2].Curves[1].Loss[:1]
	for name, d := range map[string]struct {
		exp     string
		details any
	}{
		"correction one arm":      {ExpCorrection, &CorrectionResult{Arms: []CorrectionArm{{Teacher: teacherOriginal}}}},
		"depth-losses no width":   {ExpDepthLosses, &DepthLossesResult{Students: []DepthLossStudent{{Name: "depth"}}}},
		"sdg arms swapped":        {ExpSDGvsKD, &SDGResult{Arms: []SDGArm{{Name: armSDG}, {Name: armKD}, {Name: armSDGPlusK}}}},
		"layer-curves empty":      {ExpLayerCurves, &LayerCurvesResult{}},
		"layer-curves short loss": {ExpLayerCurves, badCurves},
		"throughput two shapes":   {ExpThroughput, &ThroughputResult{Shapes: []string{"a", "b"}}},
		"throughput missing run":  {ExpThroughput, badThroughput},
		"sdg unknown field":       {ExpSDGvsKD, map[string]any{"final_loss": map[string]any{}}},
	} {
		if err := Rejudge(&Report{Experiment: d.exp, Seeds: three, Details: d.details}); err == nil {
			t.Errorf("%s: malformed details accepted", name)
		}
	}
}

// TestBlogFiguresRegenerate stores each of the five experiments as its run
// would (judged, then Save: result.json, table.md, PNGs) and regenerates it
// from result.json alone: the same table and byte-identical figures, and the
// stored result.json untouched.
func TestBlogFiguresRegenerate(t *testing.T) {
	stored, regen := t.TempDir(), t.TempDir()
	run := func(name string) results.Run {
		return results.Run{Name: name, Steps: []results.TrainStep{{Step: 0, ValLoss: results.F(5.5)}, {Step: 10, Tokens: 100, ValLoss: results.F(5.1)}}}
	}
	shape := results.Shape{NumLayers: 4, Hidden: 128, FFN: 352, NumHeads: 4, NumKVHeads: 2, Params: 1263000}
	for _, tc := range []struct {
		exp     string
		details any
		runs    []string // curve names (seed tags added for every seed)
		plots   []string
	}{
		{ExpCorrection, correctionResult(high, low), []string{"teacher correction (LM loss on the new text)", "student of the " + teacherOriginal, "student of the " + teacherCorrected}, []string{"curves.png"}},
		{ExpDepthLosses, depthLossesResult(high, low, noisyB, noisyA), []string{"depth, " + lossLogits, "depth, " + lossCombined}, []string{"curves.png"}},
		{ExpSDGvsKD, sdgResult(high, high, low), []string{armKD, armSDG, armSDGPlusK}, []string{"curves.png"}},
		{ExpLayerCurves, layerCurvesResult(edgesCostly, 0, 0.01, -0.01), nil, []string{"curves.png"}},
		{ExpThroughput, throughputResult(ratioW, ratioD), nil, []string{"rounds.png"}},
	} {
		r := &Report{Experiment: tc.exp, Title: tc.exp, Claim: "the blog's claim", Scale: "cpu", Seed: 1, Seeds: three,
			Teacher: "models/demo-teacher", TeacherShape: shape, TeacherValLoss: 4.83, Details: tc.details, ElapsedSec: 12}
		for _, seed := range three {
			for _, n := range tc.runs {
				r.Runs = append(r.Runs, run(n+seedTag(seed)))
			}
		}
		if err := Rejudge(r); err != nil {
			t.Fatalf("%s: %v", tc.exp, err)
		}
		if err := r.Save(filepath.Join(stored, tc.exp)); err != nil {
			t.Fatalf("%s: %v", tc.exp, err)
		}
		if len(r.Plots) != len(tc.plots) {
			t.Errorf("%s: plots %v, want %v", tc.exp, r.Plots, tc.plots)
		}
	}
	before := map[string][]byte{}
	for _, p := range mustGlob(t, filepath.Join(stored, "*", ResultFile)) {
		before[p] = mustRead(t, p)
	}
	reports, err := Regenerate(stored, regen)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 5 {
		t.Fatalf("regenerated %d reports, want 5", len(reports))
	}
	for _, r := range reports {
		for _, f := range append([]string{TableFile}, r.Plots...) {
			want, got := mustRead(t, filepath.Join(stored, r.Experiment, f)), mustRead(t, filepath.Join(regen, r.Experiment, f))
			if len(got) == 0 || !bytes.Equal(want, got) {
				t.Errorf("%s/%s: regenerated file differs from the stored run's (%d vs %d bytes)", r.Experiment, f, len(got), len(want))
			}
		}
	}
	for p, b := range before {
		if !bytes.Equal(b, mustRead(t, p)) {
			t.Errorf("Regenerate rewrote %s", p)
		}
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("glob %s: %v (%d matches)", pattern, err, len(m))
	}
	return m
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
