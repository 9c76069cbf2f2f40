package train

import (
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// demoTeacher is the committed CPU teacher (recipes/teacher-cpu.json).
const demoTeacher = "../../models/demo-teacher"

// maxTeacherBytes is the size limit of the committed safetensors.
const maxTeacherBytes = 10 << 20

// TestDemoTeacher: the committed teacher loads with its tokenizer, is under
// 10 MB, matches its recipe, and greedy decoding produces words.
func TestDemoTeacher(t *testing.T) {
	st, err := os.Stat(demoTeacher + "/model.safetensors")
	if err != nil {
		t.Skipf("no committed teacher: %v", err)
	}
	if st.Size() > maxTeacherBytes {
		t.Errorf("model.safetensors is %d bytes, limit %d", st.Size(), maxTeacherBytes)
	}
	m, err := llm.LoadModel(demoTeacher, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	r, err := LoadRecipe("../../recipes/teacher-cpu.json")
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Hidden != r.Model.Hidden || c.NumLayers != r.Model.NumLayers || c.FFN != r.Model.FFN || c.VocabSize != r.Data.VocabSize {
		t.Errorf("teacher config %+v does not match recipes/teacher-cpu.json", c)
	}
	tok, err := tokenize.Load(demoTeacher)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := GreedySamples(testBackend(t), m, tok, []string{"He said that"}, 12)
	if err != nil {
		t.Fatal(err)
	}
	text := samples[0].Completion
	letters := 0
	for _, r := range text {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters < len(text)/2 || len(strings.Fields(text)) < 3 {
		t.Errorf("greedy continuation of %q does not look like words: %q", "He said that", text)
	}
	t.Logf("He said that → %q", text)
}
