package plots

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"

	"github.com/gominitron/gominitron/results"
)

var regen = flag.Bool("regen", false, "rewrite the golden images in testdata/")

// Golden comparison tolerances: a pixel differs when a channel differs by
// more than goldenChannelTol; at most goldenMaxDiffFrac of the pixels may.
const (
	goldenChannelTol  = 24
	goldenMaxDiffFrac = 0.002
)

// demoImportance is a deterministic 16-layer score set shaped like the
// paper's: first and last layers matter most, the middle least.
func demoImportance() *results.Importance {
	const numLayers, numHeads, ffn, hidden = 16, 8, 512, 64
	imp := &results.Importance{LMLoss: 3.1, BlockSize: 4}
	for l := range numLayers {
		mid := math.Abs(float64(l)-9.5) / 9.5 // 0 in the middle, 1 at the ends
		imp.BI = append(imp.BI, 0.02+0.3*mid*mid+0.01*math.Sin(float64(l)))
		imp.DropOneLMLoss = append(imp.DropOneLMLoss, 3.15+2.5*mid*mid*mid+0.02*math.Cos(float64(3*l)))
		heads := make([]float64, numHeads)
		for h := range heads {
			heads[h] = 1 + math.Abs(math.Sin(float64(7*l+3*h)))*(1+mid)
		}
		imp.Heads = append(imp.Heads, heads)
		neurons := make([]float64, ffn)
		for j := range neurons {
			neurons[j] = math.Exp(-3*math.Abs(math.Sin(float64(l*ffn+j)*0.37))) * (1 + mid)
		}
		imp.FFN = append(imp.FFN, neurons)
	}
	imp.Hidden = make([]float64, hidden)
	for c := range imp.Hidden {
		imp.Hidden[c] = float64(c%7) + 1
	}
	for s := 0; s+imp.BlockSize <= numLayers; s++ {
		var sum float64
		for l := s; l < s+imp.BlockSize; l++ {
			sum += imp.DropOneLMLoss[l] - imp.LMLoss
		}
		imp.BlockLMLoss = append(imp.BlockLMLoss, imp.LMLoss+sum*1.3)
	}
	return imp
}

func demoRuns() []results.Run {
	var runs []results.Run
	for i, name := range []string{"KD (logits)", "CE only", "width-pruned"} {
		var steps []results.TrainStep
		for s := 0; s <= 300; s += 10 {
			loss := 2.6 + float64(i)*0.15 + 2.5*math.Exp(-float64(s)/(60+20*float64(i))) + 0.03*math.Sin(float64(s+i))
			st := results.TrainStep{Step: s, Tokens: int64(s) * 8192, LR: 1e-4, TrainLoss: loss, GradNorm: 1, TokensPerSec: 1e4}
			if s%50 == 0 {
				st.ValLoss = results.F(loss + 0.05)
			}
			steps = append(steps, st)
		}
		runs = append(runs, results.Run{Name: name, Steps: steps})
	}
	return runs
}

func demoStability() []results.RankStability {
	mk := func(samples int, spread float64) results.RankStability {
		rs := results.RankStability{Parts: 4, SamplesPerPart: samples}
		k := 0
		for a := 0; a < 4; a++ {
			for b := a + 1; b < 4; b++ {
				k++
				d := spread * (1 + 0.5*math.Sin(float64(k)))
				rs.Pairs = append(rs.Pairs, results.PartPair{A: a, B: b, Spearman: map[string]float64{
					"ffn": 0.97 - d, "heads": 0.9 - 2*d, "hidden": 0.99 - d/2, "bi": 0.95 - 1.5*d,
				}})
			}
		}
		return rs
	}
	return []results.RankStability{mk(16, 0.1), mk(256, 0.02)}
}

func demoBench() []results.Bench {
	return []results.Bench{
		{Shape: "Llama-3.1-8B", Batch: 32, InputLen: 128, OutputLen: 128, RequestsPerSec: 6.65, PrefillTokensPerSec: 1e5, DecodeTokensPerSec: 800},
		{Shape: "width-4B", Batch: 64, InputLen: 128, OutputLen: 128, RequestsPerSec: 14.4, PrefillTokensPerSec: 1.8e5, DecodeTokensPerSec: 1700},
		{Shape: "depth-4B", Batch: 64, InputLen: 128, OutputLen: 128, RequestsPerSec: 25.8, PrefillTokensPerSec: 2.1e5, DecodeTokensPerSec: 3000},
	}
}

func demoCandidates() []results.Candidate {
	var out []results.Candidate
	shapes := []struct {
		name   string
		params int64
		loss   float64
	}{{"L16 h192 f512", 7.9e6, 3.42}, {"L12 h256 f704", 8.1e6, 3.31}, {"L8 h256 f1024", 8.0e6, 3.38}, {"L16 h256 f384", 8.3e6, 3.35}, {"L10 h224 f896", 7.7e6, 3.47}}
	for _, s := range shapes {
		out = append(out, results.Candidate{Name: s.name, Params: s.params, Losses: []results.StepLoss{{Step: 100, Loss: s.loss + 0.4}, {Step: 200, Loss: s.loss}}})
	}
	return out
}

// crowdedCandidates are the presets of notebook 05 on the demo teacher:
// several land on nearly the same point, so their labels would overlap.
func crowdedCandidates() []results.Candidate {
	var out []results.Candidate
	for _, c := range []struct {
		name   string
		params int64
		loss   float64
	}{{"full model", 1263232, 4.83}, {"FFN ½", 1052416, 5.02}, {"hidden ¾", 1041152, 5.05}, {"heads ½ per group", 1132160, 4.98},
		{"depth: keep 3 of 4 layers", 1066624, 5.03}, {"width: hidden ¾ + FFN ½", 883200, 5.41}} {
		out = append(out, results.Candidate{Name: c.name, Params: c.params, Losses: []results.StepLoss{{Loss: c.loss}}})
	}
	return out
}

// demoSeries are three layer-choice rules of notebook 02 on a 6-layer model.
func demoSeries() []Series {
	k := []float64{1, 2, 3, 4, 5}
	return []Series{
		{Name: "drop-one ranking", X: k, Y: []float64{5.1, 5.5, 6.2, 7.0, 8.1}},
		{Name: "BI ranking", X: k, Y: []float64{5.3, 5.9, 6.4, 7.4, 8.0}},
		{Name: "contiguous block", X: k, Y: []float64{5.1, 5.4, 6.0, 7.1, 8.1}},
	}
}

func goldenCases() map[string]func() (*plot.Plot, error) {
	imp := demoImportance()
	withAcc := demoImportance()
	withAcc.BlockScores = &results.BlockScores{Metric: "acc", Task: "next-sentence", HigherIsBetter: true, BlockSize: 4, Baseline: results.F(0.61)}
	for s := range len(imp.BlockLMLoss) {
		withAcc.BlockScores.Values = append(withAcc.BlockScores.Values, 0.6-0.08*(imp.BlockLMLoss[s]-imp.LMLoss))
	}
	return map[string]func() (*plot.Plot, error){
		"layer_importance": func() (*plot.Plot, error) { return LayerImportance(imp) },
		"block_lm_loss":    func() (*plot.Plot, error) { return BlockScores(imp) },
		"block_acc":        func() (*plot.Plot, error) { return BlockScores(withAcc) },
		"heatmap_heads": func() (*plot.Plot, error) {
			return ImportanceHeatmap(imp, HeatmapOptions{Axis: "heads", Keep: 3, Groups: 2})
		},
		"heatmap_ffn": func() (*plot.Plot, error) {
			return ImportanceHeatmap(imp, HeatmapOptions{Axis: "ffn", Bins: 32, Keep: 384})
		},
		"rank_stability":  func() (*plot.Plot, error) { return RankStability(demoStability()) },
		"training_curves": func() (*plot.Plot, error) { return TrainingCurves(demoRuns(), CurveOptions{}) },
		"val_curves_tokens": func() (*plot.Plot, error) {
			return TrainingCurves(demoRuns(), CurveOptions{X: "tokens", Metric: "val_loss"})
		},
		"throughput":             func() (*plot.Plot, error) { return Throughput(demoBench(), "") },
		"params_vs_loss":         func() (*plot.Plot, error) { return ParamsVsLoss(demoCandidates()) },
		"params_vs_loss_crowded": func() (*plot.Plot, error) { return ParamsVsLoss(crowdedCandidates()) },
		"lines_depth": func() (*plot.Plot, error) {
			return Lines(demoSeries(), LinesOptions{Title: "Validation LM loss after dropping k layers", XLabel: "layers dropped", YLabel: "LM loss (nats/token)", IntegerX: true})
		},
	}
}

func TestGolden(t *testing.T) {
	for name, mk := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			p, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			got, err := PNG(p, DefaultWidth, DefaultHeight)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, got)
		})
	}
}

func comparePNG(gotData, wantData []byte) error {
	got, err := png.Decode(bytes.NewReader(gotData))
	if err != nil {
		return err
	}
	want, err := png.Decode(bytes.NewReader(wantData))
	if err != nil {
		return err
	}
	if got.Bounds() != want.Bounds() {
		return fmt.Errorf("size %v, want %v", got.Bounds(), want.Bounds())
	}
	b := got.Bounds()
	diff := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if pixelDiffers(got, want, x, y) {
				diff++
			}
		}
	}
	if frac := float64(diff) / float64(b.Dx()*b.Dy()); frac > goldenMaxDiffFrac {
		return fmt.Errorf("%d pixels (%.3f%%) differ", diff, 100*frac)
	}
	return nil
}

func pixelDiffers(a, b image.Image, x, y int) bool {
	r1, g1, b1, a1 := a.At(x, y).RGBA()
	r2, g2, b2, a2 := b.At(x, y).RGBA()
	d := func(u, v uint32) bool {
		u, v = u>>8, v>>8
		if u > v {
			return u-v > goldenChannelTol
		}
		return v-u > goldenChannelTol
	}
	return d(r1, r2) || d(g1, g2) || d(b1, b2) || d(a1, a2)
}

func TestComparePNGDetectsChange(t *testing.T) {
	p, err := LayerImportance(demoImportance())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := PNG(p, DefaultWidth, DefaultHeight)
	imp := demoImportance()
	imp.DropOneLMLoss[3] += 1
	p2, _ := LayerImportance(imp)
	b, _ := PNG(p2, DefaultWidth, DefaultHeight)
	if err := comparePNG(a, a); err != nil {
		t.Fatalf("identical images differ: %v", err)
	}
	if err := comparePNG(a, b); err == nil {
		t.Fatal("a changed data point was not detected")
	}
}

func TestRenderingIsDeterministic(t *testing.T) {
	for _, render := range []func(*plot.Plot) ([]byte, error){
		func(p *plot.Plot) ([]byte, error) { return PNG(p, DefaultWidth, DefaultHeight) },
		func(p *plot.Plot) ([]byte, error) { return SVG(p, DefaultWidth, DefaultHeight) },
	} {
		p1, _ := ImportanceHeatmap(demoImportance(), HeatmapOptions{Axis: "heads", Keep: 2})
		p2, _ := ImportanceHeatmap(demoImportance(), HeatmapOptions{Axis: "heads", Keep: 2})
		a, err := render(p1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := render(p2)
		if !bytes.Equal(a, b) {
			t.Fatal("two renderings of the same plot differ")
		}
	}
}

func TestSVGAndSave(t *testing.T) {
	p, err := Throughput(demoBench(), "decode_tokens_per_sec")
	if err != nil {
		t.Fatal(err)
	}
	svg, err := SVG(p, DefaultWidth, DefaultHeight)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "depth-4B") {
		t.Fatal("SVG lacks the svg element or the bar labels")
	}
	dir := t.TempDir()
	for _, name := range []string{"a.png", "a.svg"} {
		if err := Save(p, filepath.Join(dir, name), DefaultWidth, DefaultHeight); err != nil {
			t.Fatal(err)
		}
	}
	if err := Save(p, filepath.Join(dir, "a.gif"), DefaultWidth, DefaultHeight); err == nil {
		t.Fatal("Save accepted .gif")
	}
	if _, err := PNG(nil, DefaultWidth, DefaultHeight); err == nil {
		t.Fatal("PNG accepted a nil plot")
	}
}

func TestFixtureImportancePlots(t *testing.T) {
	imp, err := results.LoadImportance("../testdata/hf/dev-llama-gqa/reference_importance.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, mk := range map[string]func() (*plot.Plot, error){
		"layers": func() (*plot.Plot, error) { return LayerImportance(imp) },
		"heads": func() (*plot.Plot, error) {
			return ImportanceHeatmap(imp, HeatmapOptions{Axis: "heads", Keep: 1, Groups: 2})
		},
		"ffn": func() (*plot.Plot, error) { return ImportanceHeatmap(imp, HeatmapOptions{Axis: "ffn", Keep: 100}) },
	} {
		p, err := mk()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := PNG(p, DefaultWidth, DefaultHeight); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestInvalidInputs(t *testing.T) {
	nan := math.NaN()
	mod := func(f func(*results.Importance)) *results.Importance {
		imp := demoImportance()
		f(imp)
		return imp
	}
	runs := demoRuns()
	runs[1].Steps[3].TrainLoss = nan
	cases := []struct {
		name string
		fn   func() (*plot.Plot, error)
		want string
	}{
		{"nil importance", func() (*plot.Plot, error) { return LayerImportance(nil) }, "nil"},
		{"nan bi", func() (*plot.Plot, error) { return LayerImportance(mod(func(i *results.Importance) { i.BI[2] = nan })) }, "bi[2]"},
		{"empty drop one", func() (*plot.Plot, error) {
			return LayerImportance(mod(func(i *results.Importance) { i.DropOneLMLoss = nil }))
		}, "empty"},
		{"layer mismatch", func() (*plot.Plot, error) {
			return LayerImportance(mod(func(i *results.Importance) { i.BI = i.BI[:3] }))
		}, "layers"},
		{"no block data", func() (*plot.Plot, error) {
			return BlockScores(mod(func(i *results.Importance) { i.BlockLMLoss = nil }))
		}, "neither"},
		{"inf block", func() (*plot.Plot, error) {
			return BlockScores(mod(func(i *results.Importance) { i.BlockLMLoss[0] = math.Inf(1) }))
		}, "+Inf"},
		{"ragged heads", func() (*plot.Plot, error) {
			return ImportanceHeatmap(mod(func(i *results.Importance) { i.Heads[5] = i.Heads[5][:2] }), HeatmapOptions{Axis: "heads"})
		}, "ragged"},
		{"bad axis", func() (*plot.Plot, error) { return ImportanceHeatmap(demoImportance(), HeatmapOptions{Axis: "hidden"}) }, "axis"},
		{"keep too large", func() (*plot.Plot, error) {
			return ImportanceHeatmap(demoImportance(), HeatmapOptions{Axis: "heads", Keep: 5, Groups: 2})
		}, "per group"},
		{"groups indivisible", func() (*plot.Plot, error) {
			return ImportanceHeatmap(demoImportance(), HeatmapOptions{Axis: "heads", Groups: 3})
		}, "divisible"},
		{"no stability", func() (*plot.Plot, error) { return RankStability(nil) }, "no data"},
		{"rho out of range", func() (*plot.Plot, error) {
			s := demoStability()
			s[0].Pairs[0].Spearman["ffn"] = 1.5
			return RankStability(s)
		}, "outside"},
		{"no series", func() (*plot.Plot, error) { return Lines(nil, LinesOptions{}) }, "no series"},
		{"ragged series", func() (*plot.Plot, error) {
			return Lines([]Series{{Name: "BI ranking", X: []float64{1, 2}, Y: []float64{5}}}, LinesOptions{})
		}, "BI ranking"},
		{"empty series", func() (*plot.Plot, error) { return Lines([]Series{{Name: "depth"}}, LinesOptions{}) }, "depth"},
		{"nan series", func() (*plot.Plot, error) {
			return Lines([]Series{{Name: "FFN", X: []float64{1, 2}, Y: []float64{5, nan}}}, LinesOptions{})
		}, "FFN"},
		{"no runs", func() (*plot.Plot, error) { return TrainingCurves(nil, CurveOptions{}) }, "no runs"},
		{"nan loss", func() (*plot.Plot, error) { return TrainingCurves(runs, CurveOptions{}) }, "CE only"},
		{"missing metric", func() (*plot.Plot, error) { return TrainingCurves(demoRuns(), CurveOptions{Metric: "loss_ce"}) }, "no loss_ce"},
		{"unknown metric", func() (*plot.Plot, error) { return TrainingCurves(demoRuns(), CurveOptions{Metric: "acc"}) }, "unknown"},
		{"no bench", func() (*plot.Plot, error) { return Throughput(nil, "") }, "no rows"},
		{"nan bench", func() (*plot.Plot, error) {
			b := demoBench()
			b[1].RequestsPerSec = nan
			return Throughput(b, "")
		}, "rows[1]"},
		{"no candidates", func() (*plot.Plot, error) { return ParamsVsLoss(nil) }, "no candidates"},
		{"candidate without losses", func() (*plot.Plot, error) {
			c := demoCandidates()
			c[2].Losses = nil
			return ParamsVsLoss(c)
		}, "no losses"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := c.fn()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got (%v, %v), want error containing %q", p != nil, err, c.want)
			}
		})
	}
}

// checkGolden compares got with testdata/NAME.png (with -regen: writes it).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".png")
	if *regen {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./plots -regen to create it)", err)
	}
	if err := comparePNG(got, want); err != nil {
		failed := filepath.Join(t.TempDir(), name+".png")
		os.WriteFile(failed, got, 0o644)
		t.Fatalf("%s: %v (got image written to %s; run -regen if the change is intended)", path, err, failed)
	}
}
