package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gominitron/gominitron/internal/fileio"
)

// Load reads a tokenizer from a tokenizer.json file, a SentencePiece
// tokenizer.model file, or a model directory holding either (tokenizer.json is
// preferred). A tokenizer_config.json beside it, if present, names BOS/EOS.
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() {
		for _, name := range []string{"tokenizer.json", "tokenizer.model"} {
			p := filepath.Join(path, name)
			if _, err := os.Lstat(p); err == nil {
				if _, err := fileio.CheckRegular(p); err != nil {
					return nil, fmt.Errorf("tokenizer: %w", err)
				}
				return Load(p)
			}
		}
		return nil, fmt.Errorf("tokenizer: directory %s has neither tokenizer.json nor tokenizer.model", path)
	}
	data, err := fileio.ReadRegular(path, fileio.MaxSideFileBytes)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var tok *Tokenizer
	if strings.HasSuffix(path, ".model") || (len(data) > 0 && data[0] != '{' && !json.Valid(data)) {
		tok, err = parseSentencePiece(data, path)
	} else {
		tok, err = ParseJSON(data, path)
	}
	if err != nil {
		return nil, err
	}
	if err := tok.applyTokenizerConfig(filepath.Join(filepath.Dir(path), "tokenizer_config.json")); err != nil {
		return nil, err
	}
	return tok, nil
}

// FileIn returns the tokenizer file of a model directory, tokenizer.json
// (preferred) or tokenizer.model, or "" when it has neither.
func FileIn(dir string) string {
	for _, name := range []string{"tokenizer.json", "tokenizer.model"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

type tokenizerJSON struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

type bpeJSON struct {
	Type                    string           `json:"type"`
	Dropout                 *float64         `json:"dropout"`
	UnkToken                *string          `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
	FuseUnk                 bool             `json:"fuse_unk"`
	ByteFallback            bool             `json:"byte_fallback"`
	IgnoreMerges            bool             `json:"ignore_merges"`
	Vocab                   map[string]int32 `json:"vocab"`
	Merges                  json.RawMessage  `json:"merges"`
}

// parseMerges accepts both forms: ["a b", ...] and [["a", "b"], ...].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var asStrings []string
	if err := json.Unmarshal(raw, &asStrings); err == nil {
		out := make([][2]string, len(asStrings))
		for i, s := range asStrings {
			parts := strings.Split(s, " ")
			if len(parts) != 2 {
				return nil, fmt.Errorf("merge %d %q: want two tokens separated by one space", i, s)
			}
			out[i] = [2]string{parts[0], parts[1]}
		}
		return out, nil
	}
	var asPairs [][]string
	if err := json.Unmarshal(raw, &asPairs); err != nil {
		return nil, fmt.Errorf("merges: neither [\"a b\"] nor [[\"a\",\"b\"]]: %w", err)
	}
	out := make([][2]string, len(asPairs))
	for i, p := range asPairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("merge %d: want 2 tokens, got %d", i, len(p))
		}
		out[i] = [2]string{p[0], p[1]}
	}
	return out, nil
}

// ParseJSON builds a tokenizer from tokenizer.json contents; name is used in
// error messages.
func ParseJSON(data []byte, name string) (*Tokenizer, error) {
	wrap := func(err error) error { return fmt.Errorf("tokenizer %s: %w", name, err) }
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, wrap(err)
	}
	var mj bpeJSON
	if err := json.Unmarshal(tj.Model, &mj); err != nil {
		return nil, wrap(fmt.Errorf("model: %w", err))
	}
	if mj.Type != "BPE" && !(mj.Type == "" && mj.Vocab != nil) {
		return nil, wrap(fmt.Errorf("model type %q is not supported (only BPE)", mj.Type))
	}
	if mj.Dropout != nil && *mj.Dropout > 0 {
		return nil, wrap(errors.New("BPE dropout is not supported"))
	}
	merges, err := parseMerges(mj.Merges)
	if err != nil {
		return nil, wrap(err)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	bpe, err := newBPEModel(mj.Vocab, merges, str(mj.UnkToken), mj.FuseUnk, mj.ByteFallback, mj.IgnoreMerges,
		str(mj.ContinuingSubwordPrefix), str(mj.EndOfWordSuffix))
	if err != nil {
		return nil, wrap(err)
	}
	t := &Tokenizer{path: name, model: bpe, tokenToID: map[string]int32{}, special: map[int32]bool{}, bos: -1, eos: -1}
	if t.normalizer, err = parseNormalizer(tj.Normalizer); err != nil {
		return nil, wrap(err)
	}
	if t.preTok, err = parsePreTokenizer(tj.PreTokenizer); err != nil {
		return nil, wrap(err)
	}
	if t.post, err = parsePostProcessor(tj.PostProcessor); err != nil {
		return nil, wrap(err)
	}
	if t.decoder, err = parseDecoder(tj.Decoder); err != nil {
		return nil, wrap(err)
	}
	idLimit := maxTokenID(len(mj.Vocab) + len(tj.AddedTokens))
	for tok, id := range mj.Vocab {
		if id < 0 {
			return nil, wrap(fmt.Errorf("vocab token %q has negative id %d", tok, id))
		}
		if id > idLimit {
			return nil, wrap(fmt.Errorf("vocab token %q has id %d, implausibly large for %d tokens (limit %d; corrupt tokenizer?)", tok, id, len(mj.Vocab)+len(tj.AddedTokens), idLimit))
		}
		t.setToken(id, tok)
	}
	var rawToks, normToks []addedToken
	var rawPats, normPats []string
	for _, at := range tj.AddedTokens {
		if at.ID < 0 {
			return nil, wrap(fmt.Errorf("added token %q has negative id %d", at.Content, at.ID))
		}
		if at.ID > idLimit {
			return nil, wrap(fmt.Errorf("added token %q has id %d, implausibly large for %d tokens (limit %d; corrupt tokenizer?)", at.Content, at.ID, len(mj.Vocab)+len(tj.AddedTokens), idLimit))
		}
		t.setToken(at.ID, at.Content)
		if at.Special {
			t.special[at.ID] = true
		}
		if at.Normalized {
			pat := at.Content
			if t.normalizer != nil {
				pat = t.normalizer.normalize(pat)
			}
			normToks, normPats = append(normToks, at), append(normPats, pat)
		} else {
			rawToks, rawPats = append(rawToks, at), append(rawPats, at.Content)
		}
	}
	t.addedRaw = newAddedMatcher(rawToks, rawPats)
	t.addedNorm = newAddedMatcher(normToks, normPats)
	if err := t.checkPostProcessorIDs(); err != nil {
		return nil, wrap(err)
	}
	t.guessBOSEOS()
	return t, nil
}

// maxTokenID bounds the ids of a tokenizer with n tokens before the
// id-to-token table is sized by them: ids may leave gaps, but not more than
// twice the tokens plus 1024 (real vocabularies are dense or nearly so).
func maxTokenID(n int) int32 {
	return int32(min(2*n+1024, 1<<30))
}

func (t *Tokenizer) setToken(id int32, tok string) {
	for int(id) >= len(t.idToToken) {
		t.idToToken = append(t.idToToken, "")
	}
	t.idToToken[id] = tok
	t.tokenToID[tok] = id
}

// checkPostProcessorIDs rejects special-token ids outside the vocabulary.
func (t *Tokenizer) checkPostProcessorIDs() error {
	var check func(p postProcessor) error
	check = func(p postProcessor) error {
		switch p := p.(type) {
		case templateProcessor:
			for _, pc := range p.single {
				for _, id := range pc.ids {
					if _, ok := t.IDToToken(id); !ok {
						return fmt.Errorf("post_processor special token id %d is outside the vocabulary (size %d)", id, t.VocabSize())
					}
				}
			}
		case wrapProcessor:
			for _, id := range []int32{p.cls, p.sep} {
				if _, ok := t.IDToToken(id); !ok {
					return fmt.Errorf("post_processor special token id %d is outside the vocabulary (size %d)", id, t.VocabSize())
				}
			}
		case postSeq:
			for _, q := range p {
				if err := check(q); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return check(t.post)
}

// guessBOSEOS picks BOS from the post-processor's first special token (or
// well-known names) and EOS from well-known names.
func (t *Tokenizer) guessBOSEOS() {
	if tp, ok := t.post.(templateProcessor); ok && len(tp.single) > 0 && !tp.single[0].sequence && len(tp.single[0].ids) == 1 {
		t.bos = tp.single[0].ids[0]
	}
	if t.bos < 0 {
		for _, name := range []string{"<|begin_of_text|>", "<s>", "<bos>"} {
			if id, ok := t.tokenToID[name]; ok {
				t.bos = id
				break
			}
		}
	}
	for _, name := range []string{"<|end_of_text|>", "</s>", "<|endoftext|>", "<eos>", "<|im_end|>"} {
		if id, ok := t.tokenToID[name]; ok {
			t.eos = id
			break
		}
	}
}

// applyTokenizerConfig reads bos_token/eos_token from a transformers
// tokenizer_config.json when the file exists.
func (t *Tokenizer) applyTokenizerConfig(path string) error {
	data, err := fileio.ReadRegular(path, fileio.MaxSideFileBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("tokenizer config: %w", err)
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("tokenizer config %s: %w", path, err)
	}
	lookup := func(key string) (int32, bool, error) {
		raw, ok := cfg[key]
		if !ok || isNull(raw) {
			return -1, false, nil
		}
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil {
				return -1, false, fmt.Errorf("tokenizer config %s: %s: %w", path, key, err)
			}
			name = obj.Content
		}
		id, ok := t.tokenToID[name]
		if !ok {
			return -1, false, fmt.Errorf("tokenizer config %s: %s %q is not in the vocabulary", path, key, name)
		}
		return id, true, nil
	}
	if id, ok, err := lookup("bos_token"); err != nil {
		return err
	} else if ok {
		t.bos = id
	}
	if id, ok, err := lookup("eos_token"); err != nil {
		return err
	} else if ok {
		t.eos = id
	}
	return nil
}
