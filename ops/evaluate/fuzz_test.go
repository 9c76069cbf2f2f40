package evaluate

import (
	"os"
	"strings"
	"testing"
)

// FuzzTaskLine feeds arbitrary lines to every format's parser: no panic,
// and every accepted doc is usable (≥ 2 choices, gold in range, a partial
// doc has a target) and yields prompts.
func FuzzTaskLine(f *testing.F) {
	for _, name := range []string{"winogrande.jsonl", "hellaswag.jsonl", "arc.jsonl", "piqa.jsonl", "mmlu.jsonl", "mc.jsonl"} {
		data, err := os.ReadFile(taskPath(name))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f.Add(line)
		}
	}
	f.Add(`{"sentence": "_", "option1": "", "option2": "", "answer": 2}`)
	f.Add(`{"ctx_a": "", "ctx_b": "", "endings": ["", ""], "label": "1"}`)
	f.Fuzz(func(t *testing.T, line string) {
		for _, format := range Formats {
			parse, _ := parserFor(format)
			d, err := checkedDoc(parse, []byte(line))
			if err != nil {
				continue
			}
			if len(d.Choices) < 2 || d.Gold < 0 || d.Gold >= len(d.Choices) {
				t.Fatalf("%s accepted a bad doc %+v", format, d)
			}
			ctx, err := Contexts([]Doc{d, d}, 2, 1, 1)
			if err != nil || len(ctx[0]) != len(d.Choices) {
				t.Fatalf("%s: prompts %v, %v", format, ctx, err)
			}
		}
	})
}
