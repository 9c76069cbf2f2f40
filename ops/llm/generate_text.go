package llm

import (
	"fmt"
	"strings"
)

// TextTokenizer is what GenerateText needs of a tokenizer
// (*tokenize.Tokenizer has both methods).
type TextTokenizer interface {
	// Encode turns text into ids, with the tokenizer's special tokens (e.g.
	// BOS) when addSpecial.
	Encode(text string, addSpecial bool) []int32
	// Decode turns ids into text, dropping special tokens when skipSpecial.
	Decode(ids []int32, skipSpecial bool) (string, error)
}

// Generation is one prompt's continuation as ids and as text.
type Generation struct {
	IDs          []int32 `json:"ids"`          // prompt + new tokens
	Text         string  `json:"text"`         // IDs decoded (special tokens dropped)
	Continuation string  `json:"continuation"` // the new tokens' text: Text after the prompt's text
}

// EncodePrompt encodes prompt text with the tokenizer's special tokens (BOS),
// as Hugging Face's tokenizer(text) does; an empty result is an error.
func EncodePrompt(tok TextTokenizer, text string) ([]int32, error) {
	ids := tok.Encode(text, true)
	if len(ids) == 0 {
		return nil, fmt.Errorf("prompt text %q encodes to no tokens", text)
	}
	return ids, nil
}

// GenerateText continues prompt (ids) with r, then decodes the result with
// tok. Continuation is the decoded text past the decoded prompt, so a
// character split across the prompt/continuation boundary, or a
// SentencePiece leading space, comes out as the whole text shows it.
func (r *Runner) GenerateText(tok TextTokenizer, prompt []int32, opts GenerateOptions) (Generation, error) {
	out, err := r.Generate([][]int32{prompt}, opts)
	if err != nil {
		return Generation{}, err
	}
	ids := out[0]
	text, err := tok.Decode(ids, true)
	if err != nil {
		return Generation{}, fmt.Errorf("decoding the generated ids: %w", err)
	}
	promptText, err := tok.Decode(prompt, true)
	if err != nil {
		return Generation{}, fmt.Errorf("decoding the prompt ids: %w", err)
	}
	cont, ok := strings.CutPrefix(text, promptText)
	if !ok {
		// The prompt's text is not a prefix of the whole (a byte sequence that
		// only decodes together with the next token): decode the new ids alone.
		if cont, err = tok.Decode(ids[len(prompt):], true); err != nil {
			return Generation{}, fmt.Errorf("decoding the new ids: %w", err)
		}
	}
	return Generation{IDs: ids, Text: text, Continuation: cont}, nil
}
