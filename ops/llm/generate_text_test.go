package llm

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// idTokenizer is a fake TextTokenizer: id 7 decodes to "t7", joined; with
// endMark, a decoded sequence ends in "." (so the prompt's text is not a
// prefix of the whole text, as with a byte sequence split across tokens).
type idTokenizer struct{ endMark bool }

func (idTokenizer) Encode(text string, addSpecial bool) []int32 {
	var ids []int32
	for _, f := range strings.Fields(text) {
		var id int32
		fmt.Sscanf(f, "t%d", &id)
		ids = append(ids, id)
	}
	return ids
}

func (t idTokenizer) Decode(ids []int32, skipSpecial bool) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "t%d", id)
	}
	if t.endMark {
		b.WriteString(".")
	}
	return b.String(), nil
}

// TestGenerateTextDecodesContinuation: GenerateText's ids are transformers'
// greedy continuation (reference fixture), its Text decodes all of them and
// its Continuation only the new ones.
func TestGenerateTextDecodesContinuation(t *testing.T) {
	f := loadFixture(t, "dev-llama-gqa")
	ref := loadReferenceGenerate(t, f.name)
	r := fixtureRunner(t, f)
	newIDs := ref.Greedy[len(ref.Prompt):]
	join := func(ids []int32) string {
		var s string
		for _, id := range ids {
			s += fmt.Sprintf("t%d", id)
		}
		return s
	}
	for _, tc := range []struct {
		name              string
		tok               idTokenizer
		wantText, wantNew string
	}{
		{"prefix", idTokenizer{}, join(ref.Greedy), join(newIDs)},
		{"prompt text not a prefix", idTokenizer{endMark: true}, join(ref.Greedy) + ".", join(newIDs) + "."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := r.GenerateText(tc.tok, ref.Prompt, GenerateOptions{MaxNewTokens: len(newIDs)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.IDs, ref.Greedy) {
				t.Errorf("ids:\n got %v\nwant %v", g.IDs, ref.Greedy)
			}
			if g.Text != tc.wantText || g.Continuation != tc.wantNew {
				t.Errorf("text %q continuation %q, want %q and %q", g.Text, g.Continuation, tc.wantText, tc.wantNew)
			}
		})
	}
}

func TestEncodePromptRejectsEmpty(t *testing.T) {
	if _, err := EncodePrompt(idTokenizer{}, "   "); err == nil {
		t.Error("an empty prompt encoded without error")
	}
	ids, err := EncodePrompt(idTokenizer{}, "t3 t4")
	if err != nil || !slices.Equal(ids, []int32{3, 4}) {
		t.Errorf("EncodePrompt(\"t3 t4\") = %v, %v; want [3 4]", ids, err)
	}
}
