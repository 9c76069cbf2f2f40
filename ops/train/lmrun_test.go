package train

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gomlx/compute/dtypes"
)

// TestRecipeStepsOnOpenedValues runs RunRecipe's steps one by one, as a
// notebook does: the token file and tokenizer are reused once built, TrainLM
// stopped early returns no model, a full TrainLM lowers the validation loss,
// ExportLM writes a loadable folder with the tokenizer, and GreedySamples
// continues every prompt.
func TestRecipeStepsOnOpenedValues(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	dir := t.TempDir()
	r := tinyRecipe(writeToyCorpus(t, dir, 120))
	out := filepath.Join(dir, "out")
	sources, err := RecipeSources(r.Data, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := RecipeTokenizer(r.Data, sources, out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := PackRecipe(r.Data, sources, tok, out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	st, err := os.Stat(filepath.Join(out, TokensFile))
	if err != nil {
		t.Fatal(err)
	}
	again, err := PackRecipe(r.Data, sources, tok, out, io.Discard) // reused, not packed again
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if st2, _ := os.Stat(filepath.Join(out, TokensFile)); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("PackRecipe packed an existing token file again")
	}
	be := testBackend(t)
	m, err := llm.InitWeights(r.Config(tok), dtypes.Float32, r.Train.Seed)
	if err != nil {
		t.Fatal(err)
	}
	bad := r.Train
	bad.Steps = 0
	if _, _, err := TrainLM(LMRun{Model: m, Tokens: tokens, Params: bad, OutDir: filepath.Join(dir, "bad")}); err == nil {
		t.Error("TrainLM with 0 steps: no error")
	}
	stopped, trained, err := TrainLM(LMRun{Model: m, Tokens: tokens, Params: r.Train, OutDir: filepath.Join(dir, "stopped"),
		Options: RecipeOptions{Backend: be, Log: io.Discard, StopAfter: 2}})
	if err != nil || trained != nil || stopped.Summary.Steps != 2 {
		t.Fatalf("stopped run: model %v, summary %+v, err %v: want no model after 2 updates", trained != nil, stopped.Summary, err)
	}
	if m, err = llm.InitWeights(r.Config(tok), dtypes.Float32, r.Train.Seed); err != nil { // TrainLM took the first one's weights
		t.Fatal(err)
	}
	rep, trained, err := TrainLM(LMRun{Model: m, Tokens: tokens, Params: r.Train, OutDir: filepath.Join(dir, "run"),
		Options: RecipeOptions{Backend: be, Log: io.Discard}})
	if err != nil || trained == nil {
		t.Fatalf("TrainLM: model %v, err %v", trained != nil, err)
	}
	if s := rep.Summary; !(s.ValLoss < s.InitialValLoss) || rep.TrainTokens == 0 || rep.Params != r.Config(tok).Params().Total {
		t.Errorf("report %+v: want the val loss to go down from %g", rep, s.InitialValLoss)
	}
	modelDir := filepath.Join(dir, "model")
	if err := ExportLM(trained, modelDir, ExportOptions{Tokenizer: tok}); err != nil {
		t.Fatal(err)
	}
	if _, err := llm.LoadModel(modelDir, 0); err != nil {
		t.Errorf("exported model does not load: %v", err)
	}
	if _, err := os.Stat(filepath.Join(modelDir, "tokenizer.json")); err != nil {
		t.Errorf("export lacks the tokenizer: %v", err)
	}
	samples, err := GreedySamples(be, trained, tok, SamplePrompts[:2], 4)
	if err != nil || len(samples) != 2 || samples[0].Prompt != SamplePrompts[0] {
		t.Errorf("samples %+v, err %v", samples, err)
	}
}
