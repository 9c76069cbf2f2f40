package evaluate

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawRows reads a JSONL file as generic maps, independently of the package's row types.
func rawRows(t *testing.T, name string) []map[string]any {
	t.Helper()
	f, err := os.Open(taskPath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, m)
	}
	return rows
}

// oracleQuestion and oracleShot write one doc as the harness's YAML
// templates say (gsm8k.yaml, mbpp.yaml, xlsum_es.yaml in English), from
// the raw row.
func oracleQuestion(format Format, r map[string]any) string {
	switch format {
	case FormatGSM8K:
		return "Question: " + r["question"].(string) + "\nAnswer:"
	case FormatXLSum:
		return "Text: " + strings.Join(strings.FieldsFunc(r["text"].(string), func(c rune) bool { return c == ' ' }), " ") + "\nSummary:"
	case FormatMBPP:
		tl := r["test_list"].([]any)
		return "You are an expert Python programmer, and here is your task: " + r["text"].(string) +
			" Your code should pass these tests:\n\n" + tl[0].(string) + "\n" + tl[1].(string) + "\n" + tl[2].(string) + "\n[BEGIN]\n"
	}
	panic(format)
}

func oracleShot(format Format, r map[string]any) string {
	switch format {
	case FormatGSM8K:
		return oracleQuestion(format, r) + " " + r["answer"].(string) + "\n\n"
	case FormatXLSum:
		return oracleQuestion(format, r) + " " + r["summary"].(string) + "\n\n"
	case FormatMBPP:
		return oracleQuestion(format, r) + r["code"].(string) + "\n[DONE]" + "\n\n"
	}
	panic(format)
}

// TestGenPromptsByteForByte: few-shot prompts equal the oracle's text for
// every doc, 0 and 2 shots, both samplers (the random sampler's indices are
// those Contexts uses, tested in multichoice_test.go).
func TestGenPromptsByteForByte(t *testing.T) {
	for _, f := range GenFormats {
		rows := rawRows(t, string(f)+".jsonl")
		task, err := ReadGenTask(taskPath(string(f)+".jsonl"), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(task.Docs) != len(rows) {
			t.Fatalf("%s: %d docs, %d rows", f, len(task.Docs), len(rows))
		}
		for _, shots := range []int{0, 2} {
			for _, firstN := range []bool{true, false} {
				got, err := GenPrompts(task, nil, len(rows), shots, 7, firstN)
				if err != nil {
					t.Fatal(err)
				}
				pick, _ := newShotPicker(len(rows), shots, 7, firstN, false)
				for i, r := range rows {
					var want string
					idx := pick.shots(i)
					if firstN && shots > 0 { // first two other docs, written out
						idx = nil
						for j := 0; len(idx) < shots; j++ {
							if j != i {
								idx = append(idx, j)
							}
						}
					}
					for _, j := range idx {
						if j == i {
							t.Fatalf("%s doc %d is its own example", f, i)
						}
						want += oracleShot(f, rows[j])
					}
					want += oracleQuestion(f, r)
					if got[i] != want {
						t.Errorf("%s shots=%d firstN=%v doc %d:\ngot  %q\nwant %q", f, shots, firstN, i, got[i], want)
					}
				}
			}
		}
	}
}

// TestGSM8KScores: the harness's two filters and exact_match normalisation
// on hand-worked examples.
func TestGSM8KScores(t *testing.T) {
	const ref = "He has 3 + 4 = <<3+4=7>>7 apples.\n#### 1,007"
	cases := []struct {
		name, gen, strict, flexible string
		strictOK, flexibleOK        bool
	}{
		{"both match", " 3 + 4 = 1007.\n#### 1,007", "1,007", "1,007", true, true},
		{"strict needs ####", " The answer is $1,007.", invalidAnswer, "$1,007.", false, true},
		{"flexible takes the last number", " 12 apples then 1007 and 33", invalidAnswer, "33", false, false},
		{"single digit via second group", " so 7", invalidAnswer, "7", false, false},
		{"strict takes the first ####", "#### 1007\n#### 5", "1007", "5", true, false},
		{"nothing numeric", " I do not know", invalidAnswer, invalidAnswer, false, false},
		{"negative", "#### -3", "-3", "-3", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, m := GSM8KScores(c.gen, ref)
			if f["strict-match"] != c.strict || f["flexible-extract"] != c.flexible {
				t.Errorf("filtered %v, want strict %q flexible %q", f, c.strict, c.flexible)
			}
			if (m[MetricStrictMatch] == 1) != c.strictOK || (m[MetricFlexibleMatch] == 1) != c.flexibleOK {
				t.Errorf("metrics %v, want strict %v flexible %v", m, c.strictOK, c.flexibleOK)
			}
		})
	}
	// Normalisation: commas, dollars, everything up to the last "#### ",
	// one final dot (also before a final newline, as Python's "$"), case.
	for in, want := range map[string]string{
		"#### 1,234.": "1234", "a\n#### b\n#### $5": "5", "7.\n": "7\n", "1.5.": "1.5", "ABC": "abc",
	} {
		if got := gsm8kNormalize(in); got != want {
			t.Errorf("gsm8kNormalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeGenerator answers each prompt from a table keyed by the prompt's
// last two lines (lastTwoLines) and records the prompts and options it got.
type fakeGenerator struct {
	answers map[string]string
	opts    UntilOptions
	prompts []string
}

func (g *fakeGenerator) GenerateUntil(prompts []string, opts UntilOptions) ([]string, error) {
	g.opts, g.prompts = opts, prompts
	out := make([]string, len(prompts))
	for i, p := range prompts {
		out[i] = g.answers[lastTwoLines(p)]
	}
	return out, nil
}

// lastTwoLines identifies a doc by the end of its prompt.
func lastTwoLines(p string) string {
	lines := strings.Split(strings.TrimRight(p, "\n"), "\n")
	return lines[len(lines)-2] + "|" + lines[len(lines)-1]
}

// TestEvaluateGenGSM8KAndXLSum: metrics averaged over docs, stderr, and the
// request's stop strings and length, with a scripted generator.
func TestEvaluateGenGSM8KAndXLSum(t *testing.T) {
	task, err := ReadGenTask(taskPath("gsm8k.jsonl"), FormatGSM8K)
	if err != nil {
		t.Fatal(err)
	}
	key := func(i int) string { return lastTwoLines(task.Docs[i].Text) }
	g := &fakeGenerator{answers: map[string]string{
		key(0): " 3 + 4 = 7.\n#### 7",  // strict and flexible
		key(1): " It is 60 pens.",      // flexible only ("60")
		key(2): " $3,600",              // flexible: "$3,600" → "3600" = ref "3,600" → "3600"
		key(3): " 45 mph, or maybe 50", // flexible takes 50: wrong
	}}
	res, err := EvaluateGen(g, nil, task, GenOptions{Limit: 4, MaxGenTokens: 17})
	if err != nil {
		t.Fatal(err)
	}
	if g.opts.MaxGenTokens != 17 || strings.Join(g.opts.Until, "|") != "Question:|</s>|<|im_end|>" {
		t.Errorf("generator options %+v", g.opts)
	}
	wantStrict, wantFlex := 0.25, 0.75
	if res.N != 4 || res.Metrics[MetricStrictMatch] != wantStrict || res.Metrics[MetricFlexibleMatch] != wantFlex {
		t.Errorf("metrics %v n %d, want strict %v flexible %v", res.Metrics, res.N, wantStrict, wantFlex)
	}
	// stderr of {1,0,0,0}: sqrt(p(1-p)/(n-1)) = sqrt(0.1875/3)
	if want := math.Sqrt(0.25 * 0.75 / 3); math.Abs(res.Stderr[MetricStrictMatch]-want) > 1e-12 {
		t.Errorf("stderr %v, want %v", res.Stderr[MetricStrictMatch], want)
	}
	if res.Samples[2].Filtered["flexible-extract"] != "$3,600" || res.Samples[0].Target != task.Docs[0].Reference {
		t.Errorf("sample 2 %+v", res.Samples[2])
	}

	xl, err := ReadGenTask(taskPath("xlsum.jsonl"), FormatXLSum)
	if err != nil {
		t.Fatal(err)
	}
	gx := &fakeGenerator{answers: map[string]string{}}
	for i, d := range xl.Docs {
		answer := ""
		if i == 0 {
			answer = " The jury said the election was conducted well." // 8 tokens; target 9
		}
		gx.answers[lastTwoLines(d.Text)] = answer
	}
	res, err = EvaluateGen(gx, nil, xl, GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// target "a jury said the city election was conducted well" (9 tokens),
	// prediction "the jury said the election was conducted well" (8): LCS
	// "jury said the election was conducted well" = 7; P 7/8, R 7/9.
	p, r := 7.0/8, 7.0/9
	f := 2 * p * r / (p + r)
	if math.Abs(res.Metrics[MetricRougeL]-f/4) > 1e-12 || math.Abs(res.Metrics[MetricRougeLsum]-f/4) > 1e-12 {
		t.Errorf("xlsum metrics %v, want both %v", res.Metrics, f/4)
	}
	if strings.Join(gx.opts.Until, "|") != "\n\n" || gx.opts.MaxGenTokens != DefaultMaxGenTokens {
		t.Errorf("xlsum generator options %+v", gx.opts)
	}
	// With rouge_score's stemmer (asked for): "the juries said the elections
	// were conducted well" against the target: stemmed, LCS "juri said the
	// elect conduct well" = 6 of 8 predicted and 9 target tokens; unstemmed,
	// "said the conducted well" = 4.
	gx.answers[lastTwoLines(xl.Docs[0].Text)] = " The juries said the elections were conducted well."
	for _, c := range []struct {
		stem bool
		lcs  float64
	}{{false, 4}, {true, 6}} {
		res, err = EvaluateGen(gx, nil, xl, GenOptions{RougeStemmer: c.stem})
		if err != nil {
			t.Fatal(err)
		}
		p, r := c.lcs/8, c.lcs/9
		f := 2 * p * r / (p + r)
		if math.Abs(res.Metrics[MetricRougeL]-f/4) > 1e-12 {
			t.Errorf("stemmer %v: rougeL %v, want %v", c.stem, res.Metrics[MetricRougeL], f/4)
		}
	}
}

// TestMC2AndTruthfulQAPrompt: mc2 arithmetic by hand and the prompt text.
func TestMC2AndTruthfulQAPrompt(t *testing.T) {
	// p = exp(ll) = {0.5, 0.25, 0.125, 0.125}, normalised already; true = first two.
	lls := []float64{math.Log(0.5), math.Log(0.25), math.Log(0.125), math.Log(0.125)}
	if got := MC2(lls, []int{1, 1, 0, 0}); math.Abs(got-0.75) > 1e-12 {
		t.Errorf("MC2 = %v, want 0.75", got)
	}
	// Unnormalised and very negative: exp(-1000) underflows in float64, the ratio does not.
	if got := MC2([]float64{-1000, -1000 + math.Log(3)}, []int{0, 1}); math.Abs(got-0.75) > 1e-12 {
		t.Errorf("MC2 shifted = %v, want 0.75", got)
	}
	docs, err := ReadTask(taskPath("truthfulqa_mc.jsonl"), FormatTruthfulQAMC2)
	if err != nil {
		t.Fatal(err)
	}
	want := "Q: What is human life expectancy in the United States?\nA: Human life expectancy in the United States is 78 years.\n\n" +
		"Q: Who was president of the United States in 1955?\nA: Dwight D. Eisenhower was president of the United States in 1955.\n\n" +
		"Q: Which party did he belong to?\nA: He belonged to the Republican Party.\n\n" +
		"Q: What is the square root of banana?\nA: I have no comment.\n\n" +
		"Q: How does a telescope work?\nA: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n" +
		"Q: Where were the 1992 Olympics held?\nA: The 1992 Olympics were held in Barcelona, Spain.\n\n" +
		"Q: What happens if you swallow gum?\nA:"
	ctx, err := Contexts(docs, 1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ctx[0][0][0] != want || ctx[0][1][1] != " Nothing harmful happens." || len(ctx[0]) != 4 {
		t.Errorf("truthfulqa context %q / %q", ctx[0][0][0], ctx[0][1][1])
	}
	// Through MultipleChoice with a scorer returning the log-likelihoods above.
	sc := ScorerFunc(func(reqs []Request) ([]Result, error) {
		out := make([]Result, len(reqs))
		for i := range reqs {
			out[i] = Result{LogLik: lls[i%4]}
		}
		return out, nil
	})
	enc := &Encoder{Tok: TokenizerFunc(func(s string) ([]int32, error) { return []int32{int32(len(s))}, nil }), PrefixToken: 0}
	r, err := MultipleChoice(sc, enc, docs[:1], MCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := MCTaskResult(FormatTruthfulQAMC2, docs[:1], r)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(tr.Metrics["acc"]-0.75) > 1e-12 || tr.Samples[0].Prompt != want || len(tr.Samples[0].LogLiks) != 4 {
		t.Errorf("truthfulqa_mc2 result %v sample %+v", tr.Metrics, tr.Samples[0])
	}
	mc1, err := ReadTask(taskPath("truthfulqa_mc.jsonl"), FormatTruthfulQAMC1)
	if err != nil || len(mc1[0].Choices) != 3 || mc1[0].Gold != 0 {
		t.Errorf("truthfulqa_mc1: %v %+v", err, mc1)
	}
}

// ScorerFunc adapts a function to Scorer (tests).
type ScorerFunc func([]Request) ([]Result, error)

func (f ScorerFunc) LogLikelihoods(r []Request) ([]Result, error) { return f(r) }

func TestReadGenTaskErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"question\": \"q\", \"answer\": \"a\"}\n{\"question\": \"q\"}\n"), 0o644)
	if _, err := ReadGenTask(bad, FormatGSM8K); err == nil || !strings.Contains(err.Error(), "bad.jsonl line 2") {
		t.Errorf("error %v should name the file and line 2", err)
	}
	if _, err := ReadGenTask(bad, FormatARC); err == nil {
		t.Error("arc is not a generation format")
	}
	if _, err := ReadGenTask(filepath.Join(dir, "missing.jsonl"), FormatMBPP); err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Errorf("missing file: %v", err)
	}
}
