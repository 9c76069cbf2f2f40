package train

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/results"
)

// writeToyCorpus writes a JSON Lines corpus of n short documents drawn from
// a tiny seeded grammar (so bigram statistics exist), and returns its path.
func writeToyCorpus(t *testing.T, dir string, n int) string {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	subj := []string{"The cat", "A dog", "The old man", "My sister", "The teacher", "A small bird"}
	verb := []string{"sees", "likes", "finds", "follows", "paints", "remembers"}
	obj := []string{"the house", "a red ball", "the river", "an apple", "the garden", "the long road"}
	var sb strings.Builder
	for i := 0; i < n; i++ {
		var doc []string
		for s := 0; s < 3+r.IntN(4); s++ {
			doc = append(doc, fmt.Sprintf("%s %s %s.", subj[r.IntN(len(subj))], verb[r.IntN(len(verb))], obj[r.IntN(len(obj))]))
		}
		line, _ := json.Marshal(map[string]string{"text": strings.Join(doc, " ")})
		sb.Write(line)
		sb.WriteByte('\n')
	}
	path := filepath.Join(dir, "corpus.jsonl")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func tinyRecipe(corpus string) *Recipe {
	return &Recipe{
		Name: "tiny",
		Data: DataRecipe{Files: []string{corpus}, VocabSize: 300, ValFraction: 0.2, SplitSeed: 1},
		Model: ModelRecipe{Hidden: 32, FFN: 64, NumLayers: 1, NumHeads: 2, NumKVHeads: 1, MaxPositions: 64,
			RopeTheta: 10000, RMSNormEps: 1e-5, TieEmbeddings: true},
		Train: TrainParams{SeqLen: 16, BatchSize: 4, Steps: 6, PeakLR: 1e-2, MinLR: 1e-3, WarmupSteps: 2, WeightDecay: 0.1,
			Beta1: 0.9, Beta2: 0.95, ClipNorm: 1, EvalEvery: 3, ValBatches: 2, CheckpointEvery: 3, KeepCheckpoints: 2, LogEvery: 1, Seed: 1},
	}
}

// TestRunRecipeEndToEnd: tokenizer → pack → bigram → train (stop, resume)
// → HF export that LoadModel reads, with tokenizer files and a report.
func TestRunRecipeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	r := tinyRecipe(writeToyCorpus(t, dir, 120))
	if err := r.validate(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	var log strings.Builder
	if _, err := RunRecipe(r, out, RecipeOptions{Log: &log, StopAfter: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := RunRecipe(r, out, RecipeOptions{Log: &log}); err == nil || !strings.Contains(err.Error(), "RecipeOptions.Resume") {
		t.Fatalf("a second run without resume: %v", err)
	}
	rep, err := RunRecipe(r, out, RecipeOptions{Log: &log, Resume: true, Command: "gominitron train --recipe tiny.json"})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "resumed from") {
		t.Errorf("log does not say it resumed:\n%s", log.String())
	}
	steps, err := results.ReadTrainLog(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 6 || steps[5].ValLoss == nil || steps[5].Step != 6 {
		t.Fatalf("metrics rows: %+v", steps)
	}
	if rep.Bigram == nil || rep.Bigram.BestLoss <= 0 || rep.Summary.ValLoss <= 0 || len(rep.Samples) != len(SamplePrompts) {
		t.Errorf("report incomplete: %+v", rep)
	}
	m, err := llm.LoadModel(filepath.Join(out, ModelDir), dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.VocabSize != 300 || m.Config.Hidden != 32 || len(m.Config.EOSTokenIDs) != 1 {
		t.Errorf("exported config %+v", m.Config)
	}
	if _, err := tokenize.Load(filepath.Join(out, ModelDir)); err != nil {
		t.Errorf("exported folder has no usable tokenizer: %v", err)
	}
	var saved Report
	if err := results.LoadJSON(filepath.Join(out, ReportFile), &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Command != "gominitron train --recipe tiny.json" {
		t.Errorf("report command %q", saved.Command)
	}
}

// TestFinetuneFixture fine-tunes the dev-llama-gqa fixture for a few steps
// with the teacher-correction defaults and checks the schedule and export.
func TestFinetuneFixture(t *testing.T) {
	t.Setenv("GOMINITRON_DATA", t.TempDir()) // the packed-corpus cache
	const fixture = "../../testdata/hf/dev-llama-gqa"
	dir := t.TempDir()
	corpus := writeToyCorpus(t, dir, 80)
	// A small tokenizer whose ids fit the fixture's 512-token vocabulary.
	tr, err := tokenize.NewTrainer(tokenize.TrainOptions{VocabSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	if err := data.ReadDocuments(data.Source{Path: corpus}, func(d data.Document) error { tr.Add(d.Text); return nil }); err != nil {
		t.Fatal(err)
	}
	res, err := tr.Train()
	if err != nil {
		t.Fatal(err)
	}
	tokDir := filepath.Join(dir, "tok")
	if _, err := res.WriteDir(tokDir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "corrected")
	var log strings.Builder
	o := FinetuneOptions{ModelDir: fixture, Data: []string{corpus}, Tokenizer: tokDir, OutDir: out,
		Train: TrainParams{Steps: 4, SeqLen: 16, BatchSize: 2, ValBatches: 1}, RecipeOptions: RecipeOptions{Log: &log}}
	rep, err := Finetune(o)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	steps, err := results.ReadTrainLog(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	peak := DefaultOriginalPeakLR * CorrectionLRFactor
	// Warm-up min(120, steps/2) = 2: LRs peak/2, peak, then the cosine from
	// peak (update 2) to peak/10 (the last update).
	wantLR := []float64{peak / 2, peak, peak, peak / 10}
	for i, s := range steps {
		if d := s.LR - wantLR[i]; d > 1e-15 || d < -1e-15 {
			t.Errorf("step %d lr %g, want %g", s.Step, s.LR, wantLR[i])
		}
	}
	src, _ := llm.LoadModel(fixture, dtypes.Float32)
	got, err := llm.LoadModel(filepath.Join(out, ModelDir), dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	name := "model.layers.0.mlp.down_proj.weight"
	a := tensors.MustCopyFlatData[float32](src.Weights[name])
	b := tensors.MustCopyFlatData[float32](got.Weights[name])
	changed := 0
	for i := range a {
		if a[i] != b[i] {
			changed++
		}
	}
	if changed == 0 {
		t.Errorf("%s unchanged by fine-tuning", name)
	}
	if rep.Summary.InitialValLoss <= 0 || rep.Summary.ValLoss <= 0 {
		t.Errorf("summary lacks the validation before/after: %+v", rep.Summary)
	}
	if rep.Extra["peak_lr"] != peak {
		t.Errorf("report peak lr %v", rep.Extra["peak_lr"])
	}
	if _, err := Finetune(FinetuneOptions{ModelDir: fixture, Data: []string{corpus}, OutDir: fixture}); err == nil {
		t.Error("fine-tuning into the source folder accepted")
	}
}
