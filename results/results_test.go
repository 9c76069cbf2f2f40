package results

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadFixtureImportance(t *testing.T) {
	paths, err := filepath.Glob("../testdata/hf/*/reference_importance.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 3 {
		t.Fatalf("found %d fixture importance files, want >= 3", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			imp, err := LoadImportance(path)
			if err != nil {
				t.Fatal(err)
			}
			n := imp.NumLayers()
			if n == 0 || len(imp.FFN) != n || len(imp.Heads) != n || len(imp.DropOneLMLoss) != n {
				t.Fatalf("inconsistent layers: %d", n)
			}
			if imp.LMLoss <= 0 || len(imp.Hidden) == 0 || len(imp.FFN[0]) == 0 {
				t.Fatalf("missing scores: lm_loss=%v hidden=%d ffn0=%d", imp.LMLoss, len(imp.Hidden), len(imp.FFN[0]))
			}
			saveAndReload(t, imp, filepath.Join(t.TempDir(), "imp.json"))
		})
	}
}

func validImportance() *Importance {
	return &Importance{
		FFN:           [][]float64{{1, 2, 3}, {3, 2, 1}},
		Heads:         [][]float64{{1, 2}, {2, 1}},
		Hidden:        []float64{1, 2, 3, 4},
		BI:            []float64{0.5, 0.1},
		DropOneLMLoss: []float64{7, 6.5},
		LMLoss:        6.4,
		BlockSize:     2,
		BlockLMLoss:   []float64{9},
		BlockScores:   &BlockScores{Metric: "acc", HigherIsBetter: true, BlockSize: 1, Values: []float64{0.3, 0.4}},
		Model:         "demo",
		BatchAgg:      "l2",
		SeqAgg:        "mean",
		Samples:       4,
		Tokens:        128,
		SeqLen:        32,
		Created:       time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		DurationSec:   1.5,
		Backend:       "go",
		RankStability: &RankStability{Parts: 2, SamplesPerPart: 2, Pairs: []PartPair{{A: 0, B: 1, Spearman: map[string]float64{"ffn": 0.9}}}},
	}
}

func TestImportanceValidate(t *testing.T) {
	if err := validImportance().Validate(); err != nil {
		t.Fatalf("valid scores rejected: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Importance)
		want   string
	}{
		{"empty ffn", func(i *Importance) { i.FFN = nil }, "ffn is empty"},
		{"ragged ffn", func(i *Importance) { i.FFN[1] = []float64{1} }, "ffn[1]"},
		{"heads layers", func(i *Importance) { i.Heads = i.Heads[:1] }, "heads has 1 layers"},
		{"bi length", func(i *Importance) { i.BI = []float64{1} }, "bi has 1"},
		{"drop one length", func(i *Importance) { i.DropOneLMLoss = nil }, "drop_one_lm_loss"},
		{"nan hidden", func(i *Importance) { i.Hidden[2] = nan() }, "hidden[2]"},
		{"block length", func(i *Importance) { i.BlockLMLoss = []float64{1, 2} }, "block_lm_loss"},
		{"block size", func(i *Importance) { i.BlockSize = 3 }, "block_size"},
		{"block scores", func(i *Importance) { i.BlockScores.Values = []float64{1} }, "block_scores.values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			imp := validImportance()
			c.mutate(imp)
			err := imp.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want error containing %q", err, c.want)
			}
			if err := imp.Save(filepath.Join(t.TempDir(), "x.json")); err == nil {
				t.Fatal("Save accepted invalid scores")
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

// saveAndReload saves imp to path, loads it back and requires it unchanged.
func saveAndReload(t *testing.T, imp *Importance, path string) {
	t.Helper()
	if err := imp.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadImportance(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(imp, back) {
		t.Fatalf("round trip differs:\n%+v\n%+v", imp, back)
	}
}

func TestImportanceRoundTripAllFields(t *testing.T) {
	imp := validImportance()
	path := filepath.Join(t.TempDir(), "sub", "scores.json")
	saveAndReload(t, imp, path)
	// No temp files left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory has %d entries, want 1", len(entries))
	}
}

// TestLoadImportanceKeys: the policy on keys (known optional ones load,
// an unknown one is refused with its name and the file's).
func TestLoadImportanceKeys(t *testing.T) {
	const base = `"ffn":[[1]],"heads":[[1]],"hidden":[1],"bi":[1],"drop_one_lm_loss":[1],"lm_loss":1`
	cases := []struct {
		name, extra string
		wantErr     []string // substrings of the error; nil: loads
	}{
		{"required keys only", ``, nil},
		{"known optional key", `,"num_kv_heads":1,"head_rank_by_group":[[[0]]]`, nil},
		{"unknown key", `,"fnn":1`, []string{"bad.json", `"fnn"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte("{"+base+c.extra+"}"), 0o644); err != nil {
				t.Fatal(err)
			}
			imp, err := LoadImportance(path)
			if c.wantErr == nil {
				if err != nil || len(imp.FFN) != 1 {
					t.Fatalf("got %+v, %v", imp, err)
				}
				return
			}
			for _, want := range c.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want it to name %s", err, want)
				}
			}
		})
	}
}

func TestTrainLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	w, err := NewTrainLogWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := []TrainStep{
		{Step: 1, Tokens: 512, LR: 1e-4, TrainLoss: 7.1, GradNorm: 2, TokensPerSec: 1000},
		{Step: 2, Tokens: 1024, LR: 1e-4, TrainLoss: 6.9, ValLoss: F(7.0), GradNorm: 1.5, TokensPerSec: 1100,
			LossLogits: F(0.5), LossIS: F(0.1), Alpha: F(0), LossCE: F(6.9)},
	}
	for _, s := range steps {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash mid-line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":3,"tok`)
	f.Close()
	got, err := ReadTrainLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, steps) {
		t.Fatalf("got %+v, want %+v", got, steps)
	}
	if got[1].Alpha == nil || *got[1].Alpha != 0 {
		t.Fatal("alpha=0 lost")
	}
	run, err := LoadRun("kd", path)
	if err != nil || run.Name != "kd" || len(run.Steps) != 2 {
		t.Fatalf("LoadRun: %+v, %v", run, err)
	}
	// Rewrite (truncate) atomically.
	if err := WriteTrainLog(path, steps[:1]); err != nil {
		t.Fatal(err)
	}
	got, _ = ReadTrainLog(path)
	if len(got) != 1 {
		t.Fatalf("after WriteTrainLog: %d steps", len(got))
	}
}

func TestDecodeTrainLogErrors(t *testing.T) {
	_, err := DecodeTrainLog(bytes.NewBufferString("{\"step\":1}\nnot json\n{\"step\":3}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("got %v, want error on line 2", err)
	}
	if err := (&TrainLogWriter{}).Write(TrainStep{TrainLoss: nan()}); err == nil {
		t.Fatal("NaN loss encoded")
	}
}

func TestOtherTypesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cases := []any{
		&LMEval{Model: "m", LMLoss: 2, Perplexity: 7.389, Tokens: 100},
		&MCEval{Task: "t", Acc: 0.5, AccNorm: 0.6, Stderr: 0.05, N: 100},
		&[]Bench{{Shape: "8b", Batch: 32, InputLen: 128, OutputLen: 128, PrefillTokensPerSec: 1e5, DecodeTokensPerSec: 2e3, RequestsPerSec: 6.6, PeakMemoryBytes: 1 << 30}},
		&[]Candidate{{Name: "a", Shape: Shape{NumLayers: 4, Hidden: 64, FFN: 128, NumHeads: 4, NumKVHeads: 2}, Params: 1000, Losses: []StepLoss{{10, 5}, {20, 4}}}},
		&PlanSummary{Name: "p", From: Shape{NumLayers: 4}, To: Shape{NumLayers: 2}, DroppedLayers: []int{1, 2}, LMLossAfterPrune: F(5)},
	}
	for i, v := range cases {
		path := filepath.Join(dir, "x.json")
		if err := SaveJSON(path, v); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := LoadJSON(path, back); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("case %d: round trip differs: %+v vs %+v", i, v, back)
		}
	}
	c := Candidate{Losses: []StepLoss{{1, 3}, {2, 2.5}}}
	if l, ok := c.FinalLoss(); !ok || l != 2.5 {
		t.Fatalf("FinalLoss = %v %v", l, ok)
	}
	if s := (Shape{NumLayers: 8, Hidden: 256, FFN: 704, NumHeads: 8, NumKVHeads: 4}).String(); s != "L8 h256 f704 q8/kv4" {
		t.Fatal(s)
	}
}
