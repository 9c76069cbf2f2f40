package evaluate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// UntilOptions are the generation arguments of one generate_until request
// (lm-evaluation-harness's generation_kwargs with do_sample false).
type UntilOptions struct {
	Until        []string // the generation is cut before the first of these strings
	MaxGenTokens int      // new tokens at most (the harness's max_gen_toks, 256 by default)
}

// Generator continues prompts greedily: lm-evaluation-harness's
// generate_until request type. The returned text is the continuation only,
// cut before the first stop string.
type Generator interface {
	GenerateUntil(prompts []string, opts UntilOptions) ([]string, error)
}

// DefaultMaxGenTokens is the harness's default max_gen_toks.
const DefaultMaxGenTokens = 256

// ModelGenerator is the Generator of a model: greedy decoding with the
// llm.Runner's KV cache, prompts in batches, the way the harness's HFLM
// runs generate_until:
//
//   - a prompt is encoded without special tokens (add_bos_token=False) and
//     left-truncated to MaxLen − MaxGenTokens tokens;
//   - prompts go longest first in batches of BatchSize (ragged, as the
//     Runner pads them); the output order is the input order;
//   - a row stops after an end-of-sequence token (not part of the text) or
//     MaxGenTokens new tokens; the new tokens are decoded with special tokens
//     skipped, and the text is cut before the first stop string (the EOS
//     token's own text is added to the stop strings, as HFLM does).
//
// A row also stops as soon as its decoded text contains a stop string (the
// harness's stop-sequence criterion), so a batch ends when every row has
// met a stop string, EOS or MaxGenTokens.
type ModelGenerator struct {
	Runner    *llm.Runner
	Tok       GenTokenizer
	BatchSize int                   // prompts per Generate call (default 8)
	MaxLen    int                   // model context in tokens; default max_position_embeddings (2048 if unset)
	Progress  func(done, total int) // optional, after each batch
}

// GenTokenizer is what generation needs of a tokenizer (*tokenize.Tokenizer).
type GenTokenizer interface {
	Encode(text string, addSpecial bool) []int32
	Decode(ids []int32, skipSpecial bool) (string, error)
	IDToToken(id int32) (string, bool)
	BOS() int32
	EOS() int32
}

var _ GenTokenizer = (*tokenize.Tokenizer)(nil)

// NewModelGenerator wires a Runner and the model's tokenizer into a Generator.
func NewModelGenerator(r *llm.Runner, tok *tokenize.Tokenizer, batchSize int) *ModelGenerator {
	return &ModelGenerator{Runner: r, Tok: tok, BatchSize: batchSize}
}

// GenerateUntil implements Generator.
func (g *ModelGenerator) GenerateUntil(prompts []string, opts UntilOptions) ([]string, error) {
	if opts.MaxGenTokens <= 0 {
		return nil, fmt.Errorf("evaluate: max generation length must be > 0, got %d", opts.MaxGenTokens)
	}
	cfg := g.Runner.Config()
	maxLen := g.MaxLen
	if maxLen <= 0 {
		maxLen = cfg.MaxPositions
		if maxLen <= 0 {
			maxLen = 2048
		}
	}
	maxCtx := maxLen - opts.MaxGenTokens
	if maxCtx < 1 {
		return nil, fmt.Errorf("evaluate: max generation length %d leaves no room for the prompt in the model's %d-token context", opts.MaxGenTokens, maxLen)
	}
	stopIDs := stopTokenIDs(cfg, g.Tok)
	until := append([]string(nil), opts.Until...)
	if eos := g.Tok.EOS(); eos >= 0 {
		if s, ok := g.Tok.IDToToken(eos); ok && s != "" {
			until = append(until, s)
		}
	}
	ids := make([][]int32, len(prompts))
	for i, p := range prompts {
		enc := g.Tok.Encode(p, false)
		if len(enc) > maxCtx {
			enc = enc[len(enc)-maxCtx:]
		}
		if len(enc) == 0 {
			prefix := g.Tok.BOS()
			if prefix < 0 {
				prefix = g.Tok.EOS()
			}
			if prefix < 0 {
				return nil, fmt.Errorf("evaluate: prompt %d encodes to no tokens and the tokenizer has no BOS/EOS to stand for it", i)
			}
			enc = []int32{prefix}
		}
		ids[i] = enc
	}
	order := make([]int, len(prompts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) > len(ids[order[b]]) })
	batch := g.BatchSize
	if batch <= 0 {
		batch = 8
	}
	out := make([]string, len(prompts))
	gen := llm.GenerateOptions{MaxNewTokens: opts.MaxGenTokens, StopTokens: stopIDs}
	if len(until) > 0 {
		gen.StopWhen = func(_ int, toks []int32) bool {
			text, err := g.decodeNew(toks, stopIDs)
			return err == nil && containsStop(text, until)
		}
	}
	for start := 0; start < len(order); start += batch {
		idx := order[start:min(start+batch, len(order))]
		rows := make([][]int32, len(idx))
		for j, i := range idx {
			rows[j] = ids[i]
		}
		res, err := g.Runner.Generate(rows, gen)
		if err != nil {
			return nil, fmt.Errorf("evaluate: generating: %w", err)
		}
		for j, i := range idx {
			text, err := g.decodeNew(res[j][len(rows[j]):], stopIDs)
			if err != nil {
				return nil, err
			}
			out[i] = CutAtStop(text, until)
		}
		if g.Progress != nil {
			g.Progress(min(start+batch, len(order)), len(order))
		}
	}
	return out, nil
}

// decodeNew decodes generated tokens up to (not including) the first stop token.
func (g *ModelGenerator) decodeNew(toks []int32, stopIDs []int) (string, error) {
	end := len(toks)
find:
	for k, t := range toks {
		for _, s := range stopIDs {
			if int(t) == s {
				end = k
				break find
			}
		}
	}
	toks = toks[:end]
	text, err := g.Tok.Decode(toks, true)
	if err != nil {
		return "", fmt.Errorf("evaluate: decoding a generation: %w", err)
	}
	return text, nil
}

// stopTokenIDs are the end-of-sequence ids: the config's eos_token_id(s),
// else the tokenizer's EOS.
func stopTokenIDs(cfg *llm.Config, tok GenTokenizer) []int {
	if len(cfg.EOSTokenIDs) > 0 {
		return cfg.EOSTokenIDs
	}
	if eos := tok.EOS(); eos >= 0 {
		return []int{int(eos)}
	}
	return nil
}

// containsStop reports whether text contains any non-empty stop string.
func containsStop(text string, until []string) bool {
	for _, s := range until {
		if s != "" && strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// CutAtStop returns text before the first occurrence of any non-empty stop
// string (the harness splits on each stop string in turn and keeps the
// first part, which is the same).
func CutAtStop(text string, until []string) string {
	for _, s := range until {
		if s == "" {
			continue
		}
		if k := strings.Index(text, s); k >= 0 {
			text = text[:k]
		}
	}
	return text
}
