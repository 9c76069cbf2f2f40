package evaluate

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// smallGenModel is a random 2-layer model with the vocabulary of the
// Llama-3-style fixture tokenizer and a 64-token context.
func smallGenModel(t *testing.T) (*llm.Model, *tokenize.Tokenizer) {
	t.Helper()
	cfg, err := llm.ParseConfig([]byte(`{"model_type": "llama", "vocab_size": 2048, "hidden_size": 64,
		"intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
		"head_dim": 16, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "hidden_act": "silu",
		"rope_theta": 10000.0, "tie_word_embeddings": false, "initializer_range": 0.5}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.InitWeights(cfg, dtypes.Float32, 11)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.Load(filepath.Join(fixtureDir("dev-tokenizer-llama3style"), "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// TestModelGeneratorAgainstOracle: batched, sorted, truncated generation
// with stop tokens and stop strings equals, per prompt, an unbatched
// llm.Generate of the harness-truncated prompt, cut by hand.
func TestModelGeneratorAgainstOracle(t *testing.T) {
	m, tok := smallGenModel(t)
	be := testBackend(t)
	const maxGen = 8
	prompts := []string{
		"Question: Tom has 3 apples.\nAnswer:",
		"The jury said",
		strings.Repeat("A long prompt that must be left-truncated to fit. ", 12), // > 56 tokens
		"x",
		"Text: The new bridge opened on Monday.\nSummary:",
	}
	maxCtx := m.Config.MaxPositions - maxGen
	// Oracle: every prompt alone, no stop tokens, maxGen new tokens.
	raw := make([][]int32, len(prompts))
	for i, p := range prompts {
		ids := tok.Encode(p, false)
		if len(ids) > maxCtx {
			ids = ids[len(ids)-maxCtx:]
		}
		if i == 2 && len(tok.Encode(p, false)) <= maxCtx {
			t.Fatalf("prompt 2 should need truncation")
		}
		out, err := llm.Generate(be, m, ids, llm.GenerateOptions{MaxNewTokens: maxGen})
		if err != nil {
			t.Fatal(err)
		}
		raw[i] = out[len(ids):]
	}
	// An "EOS" the model does emit: prompt 0's third new token.
	eos := raw[0][2]
	m.Config.EOSTokenIDs = []int{int(eos)}
	second, err := tok.Decode(raw[1][1:2], true)
	if err != nil {
		t.Fatal(err)
	}
	until := []string{"\n\n", second}
	want := make([]string, len(prompts))
	for i := range prompts {
		toks := raw[i]
		for k, id := range toks {
			if id == eos {
				toks = toks[:k]
				break
			}
		}
		text, _ := tok.Decode(toks, true)
		for _, u := range until {
			if u != "" && strings.Contains(text, u) {
				text = text[:strings.Index(text, u)]
			}
		}
		want[i] = text
	}
	r, err := llm.NewRunner(be, m)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	g := NewModelGenerator(r, tok, 2)
	var batches []int
	g.Progress = func(done, total int) { batches = append(batches, done) }
	got, err := g.GenerateUntil(prompts, UntilOptions{Until: until, MaxGenTokens: maxGen})
	if err != nil {
		t.Fatal(err)
	}
	for i := range prompts {
		if got[i] != want[i] {
			t.Errorf("prompt %d: got %q, want %q (raw tokens %v)", i, got[i], want[i], raw[i])
		}
	}
	if len(want[0]) >= len(mustDecode(t, tok, raw[0])) {
		t.Errorf("the stop token did not shorten prompt 0's text: %q", want[0])
	}
	t.Logf("generations %q", got)
	if len(batches) != 3 || batches[2] != 5 {
		t.Errorf("progress %v, want 3 batches ending at 5", batches)
	}
	if _, err := g.GenerateUntil(prompts, UntilOptions{MaxGenTokens: 64}); err == nil {
		t.Error("a generation length filling the whole context must be refused")
	}
}

func mustDecode(t *testing.T, tok *tokenize.Tokenizer, ids []int32) string {
	t.Helper()
	s, err := tok.Decode(ids, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
