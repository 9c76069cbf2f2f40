package distill

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/results"
)

const fixtureTokenizer = "../../testdata/hf/dev-tokenizer-llama3style/tokenizer.json"

// runFixture writes a teacher, a narrower student (both with the fixture
// tokenizer) and a packed token file into a temp dir.
func runFixture(t *testing.T) (teacherDir, studentDir, tokensPath string) {
	t.Helper()
	dir := t.TempDir()
	tokJSON, err := os.ReadFile(fixtureTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.Load(fixtureTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, cfg *llm.Config, seed uint64) string {
		p := filepath.Join(dir, name)
		if err := llm.SaveModel(p, tinyModel(t, cfg, seed), llm.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, TokenizerFile), tokJSON, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vocab := tok.VocabSize()
	teacherDir = write("teacher", tinyConfig(vocab, 24, 48, 3, true), 1)
	studentDir = write("student", tinyConfig(vocab, 16, 32, 2, true), 2)

	words := strings.Fields("the of and to a in that is was he for it with as his on be at by had not are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people")
	r := rand.New(rand.NewPCG(5, 5))
	var text strings.Builder
	for line := 0; line < 400; line++ {
		n := 5 + r.IntN(12)
		for i := 0; i < n; i++ {
			if i > 0 {
				text.WriteByte(' ')
			}
			text.WriteString(words[r.IntN(len(words))])
		}
		text.WriteString(".\n")
	}
	corpus := filepath.Join(dir, "corpus.txt")
	if err := os.WriteFile(corpus, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tokensPath = filepath.Join(dir, "data.tokens")
	if _, err := data.Pack(data.PackOptions{Sources: []data.Source{{Path: corpus, TextMode: "line"}}, Tokenizer: tok,
		Out: tokensPath, ValFraction: 0.2, Seed: 1, EOS: -1, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	return teacherDir, studentDir, tokensPath
}

func runOptions(teacher, student, tokens, out string) Options {
	return Options{Teacher: teacher, Student: student, Data: tokens, Out: out, Steps: 4, BatchSize: 2, SeqLen: 16,
		PeakLR: 1e-3, MinLR: 1e-4, Warmup: 1, Seed: 3, ValBatches: 2, EvalEvery: 2, Intermediate: "default",
		Loss: Loss{Logits: LogitsLoss{Kind: ForwardKL}, EmbeddingLoss: true}}
}

// TestRunResumeMatchesUninterrupted: Run exports the student with
// distill.json and metrics carrying every loss term; an interrupted and
// resumed run exports the same weights as an uninterrupted one.
func TestRunResumeMatchesUninterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny models end to end")
	}
	teacher, student, tokens := runFixture(t)
	dir := t.TempDir()
	o := runOptions(teacher, student, tokens, filepath.Join(dir, "full"))
	o.Backend = testBackend(t)
	lin, err := Run(o)
	if err != nil {
		t.Fatal(err)
	}
	if lin.Steps != 4 || lin.Tokens != 4*2*17 || lin.ValLMLossBefore == nil || lin.ValLMLossAfter == nil || lin.TeacherValLMLoss == nil {
		t.Errorf("lineage %+v: want 4 steps, %d tokens, val losses before/after and teacher", lin, 4*2*17)
	}
	if lin.Vocab == nil || lin.Vocab.Used != lin.Vocab.Teacher || lin.Loss == nil || len(lin.Loss.Intermediate) != 1 {
		t.Errorf("lineage vocab %+v, loss %+v", lin.Vocab, lin.Loss)
	}
	rows, err := results.ReadTrainLog(filepath.Join(dir, "full.run", "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d metrics rows, want 4", len(rows))
	}
	for _, r := range rows {
		if r.LossLogits == nil || r.LossIS == nil || r.Alpha == nil || r.LossCE == nil {
			t.Errorf("step %d lacks a distillation term: %+v", r.Step, r)
		}
		if (r.ValLoss != nil) != (r.Step%2 == 0) {
			t.Errorf("step %d: val_loss %v, want one every 2 steps", r.Step, r.ValLoss)
		}
	}
	// val_loss is the student's validation LM loss (comparable with CE runs).
	if rows[3].ValLoss == nil || *rows[3].ValLoss != *lin.ValLMLossAfter {
		t.Errorf("last val_loss %v, want the validation LM loss %g", rows[3].ValLoss, *lin.ValLMLossAfter)
	}
	for _, f := range []string{"config.json", "model.safetensors", TokenizerFile, LineageFile} {
		if _, err := os.Stat(filepath.Join(dir, "full", f)); err != nil {
			t.Errorf("export lacks %s: %v", f, err)
		}
	}
	if _, err := llm.LoadModel(filepath.Join(dir, "full"), 0); err != nil {
		t.Errorf("exported student does not load: %v", err)
	}

	// Interrupted after 2 updates, then resumed.
	o2 := runOptions(teacher, student, tokens, filepath.Join(dir, "resumed"))
	o2.Backend, o2.StopAfter = o.Backend, 2
	if _, err := Run(o2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(o2.Out); err == nil {
		t.Errorf("an interrupted run exported %s", o2.Out)
	}
	o2.StopAfter = 0
	if _, err := Run(o2); err == nil || !strings.Contains(err.Error(), "Options.Resume") {
		t.Errorf("rerun without --resume over checkpoints: error %v, want one suggesting Options.Resume", err)
	}
	o2.Resume = true
	lin2, err := Run(o2)
	if err != nil {
		t.Fatal(err)
	}
	if lin2.ResumedFrom == "" || lin2.ValLMLossBefore == nil || *lin2.ValLMLossBefore != *lin.ValLMLossBefore {
		t.Errorf("resumed lineage: from %q, val before %v (uninterrupted %v)", lin2.ResumedFrom, lin2.ValLMLossBefore, *lin.ValLMLossBefore)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "full", "model.safetensors"))
	b, _ := os.ReadFile(filepath.Join(dir, "resumed", "model.safetensors"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("resumed export differs from the uninterrupted one (%d vs %d bytes)", len(a), len(b))
	}
	rows2, err := results.ReadTrainLog(filepath.Join(dir, "resumed.run", "metrics.jsonl"))
	if err != nil || len(rows2) != 4 || *rows2[3].LossLogits != *rows[3].LossLogits || rows2[1].ValLoss == nil || *rows2[1].ValLoss != *rows[1].ValLoss {
		t.Errorf("resumed metrics: %d rows (err %v), want 4 equal to the uninterrupted run", len(rows2), err)
	}

	// The output must be new.
	o3 := runOptions(teacher, student, tokens, filepath.Join(dir, "full"))
	o3.Backend = o.Backend
	if _, err := Run(o3); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("--out over an existing model: error %v", err)
	}
	o3.Out = filepath.Join(student, "sub")
	if _, err := Run(o3); err == nil || !strings.Contains(err.Error(), "inside, the input folder") {
		t.Errorf("--out inside the student: error %v", err)
	}
}

// TestCheckVocab: same tokenizer with padding rows passes (cut to the
// smaller size); no tokenizer, or a tokenizer larger than the vocabulary,
// is an error naming both sizes.
func TestCheckVocab(t *testing.T) {
	tokJSON, err := os.ReadFile(fixtureTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(withTok bool) string {
		d := t.TempDir()
		if withTok {
			if err := os.WriteFile(filepath.Join(d, TokenizerFile), tokJSON, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	tDir, sDir, bare := mk(true), mk(true), mk(false)
	cfg := func(v int) *llm.Config { return &llm.Config{VocabSize: v} }
	info, err := CheckVocab(tDir, sDir, cfg(2048+64), cfg(2048), 100)
	if err != nil || info.Used != 2048 || info.Cut != 64 || info.Tokenizer != 2048 {
		t.Errorf("padding rows: %+v, %v; want used 2048, cut 64", info, err)
	}
	for _, c := range []struct {
		name       string
		t, s       string
		tv, sv, id int
		want       []string
	}{
		{"no tokenizer", bare, sDir, 2112, 2048, 0, []string{"2112", "2048", "padding"}},
		{"tokenizer beyond vocab", tDir, sDir, 2048, 2000, 0, []string{"2048", "2000"}},
		{"data id beyond vocab", tDir, sDir, 2048, 2048, 2048, []string{"token id 2048"}},
	} {
		_, err := CheckVocab(c.t, c.s, cfg(c.tv), cfg(c.sv), c.id)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
	other := mk(false)
	if err := os.WriteFile(filepath.Join(other, TokenizerFile), append(tokJSON, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckVocab(tDir, other, cfg(2048), cfg(2048), 0); err == nil || !strings.Contains(err.Error(), "share the tokenizer") {
		t.Errorf("different tokenizer files: %v", err)
	}
}

// TestParseLayerMap covers the syntax and its errors.
func TestParseLayerMap(t *testing.T) {
	for _, c := range []struct {
		spec   string
		s, t   int
		want   string
		errSub string
	}{
		{"", 8, 8, "5:5", ""},
		{"default", 6, 12, "3:7", ""}, // s = 3 → round(4·12/6) − 1 = 7
		{"last-2:last-2", 8, 16, "5:13", ""},
		{"0:0,last:last", 4, 8, "0:0,3:7", ""},
		{"4:1", 4, 8, "", "student layer \"4\" is out of range 0..3"},
		{"1", 4, 8, "", "not student:teacher"},
		{"x:1", 4, 8, "", "bad student layer"},
	} {
		got, err := ParseLayerMap(c.spec, c.s, c.t)
		if c.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), c.errSub) {
				t.Errorf("%q: error %v, want %q", c.spec, err, c.errSub)
			}
			continue
		}
		if err != nil || FormatLayerMap(got) != c.want {
			t.Errorf("%q (%d→%d layers) = %s, %v; want %s", c.spec, c.s, c.t, FormatLayerMap(got), err, c.want)
		}
	}
}

// TestOptionsCheckNamesFields: bad options are refused before any work, the
// error naming the Options field (never a CLI flag).
func TestOptionsCheckNamesFields(t *testing.T) {
	dir := t.TempDir()
	good := Options{Teacher: "t", Student: "s", Data: "d", Out: filepath.Join(dir, "out"), Steps: 1}
	for _, c := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no steps", func(o *Options) { o.Steps = 0 }, "Options.Steps must be > 0"},
		{"negative batch", func(o *Options) { o.BatchSize = -1 }, "Options.BatchSize must be ≥ 1"},
		{"no output", func(o *Options) { o.Out = "" }, "Options.Student, Options.Data and Options.Out are required"},
		{"no teacher", func(o *Options) { o.Teacher = "" }, "Options.Teacher is required"},
	} {
		o := good
		c.edit(&o)
		if err := o.Check(); err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "--") {
			t.Errorf("%s: error %v, want one containing %q and no flag", c.name, err, c.want)
		}
	}
	if err := good.Check(); err != nil {
		t.Errorf("valid options: %v", err)
	}
}

// TestSessionOnOpenedValues: the steps run on values a notebook already
// holds (models and tokens opened, no Options paths): NewSession, Train
// and Export produce a trained student that differs from the start and
// loads back; NewSession refuses a distillation without a teacher.
func TestSessionOnOpenedValues(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny models end to end")
	}
	teacherDir, studentDir, tokensPath := runFixture(t)
	teacher, err := llm.LoadModel(teacherDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	student, err := llm.LoadModel(studentDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	const embed = "model.embed_tokens.weight"
	before := tensors.MustCopyFlatData[float32](student.Weights[embed])
	tokens, err := data.OpenTokens(tokensPath)
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	dir := t.TempDir()
	o := Options{RunDir: filepath.Join(dir, "run"), Steps: 2, BatchSize: 2, SeqLen: 16, PeakLR: 1e-3, ValBatches: 1, Seed: 1}
	if _, err := NewSession(testBackend(t), &Inputs{Student: student, Tokens: tokens}, o); err == nil {
		t.Error("NewSession without a teacher: no error")
	}
	s, err := NewSession(testBackend(t), &Inputs{Teacher: teacher, Student: student, Tokens: tokens}, o)
	if err != nil {
		t.Fatal(err)
	}
	lin, err := s.Train()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Done() || lin.Steps != 2 || lin.Student != "" || lin.ValLMLossAfter == nil || lin.TeacherValLMLoss == nil || lin.Vocab == nil || lin.Vocab.Used != student.Config.VocabSize {
		t.Errorf("lineage %+v: want 2 steps, val losses, the vocabulary of the configs", lin)
	}
	out := filepath.Join(dir, "out")
	if err := s.Export(out, lin); err != nil {
		t.Fatal(err)
	}
	trained, err := llm.LoadModel(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if after := tensors.MustCopyFlatData[float32](trained.Weights[embed]); slices.Equal(before, after) {
		t.Error("the exported student's embeddings are those of the start: no training reached the export")
	}
}

// TestDryRun: the plan of a run, timed on two steps, with the memory
// estimate, and no run folder or output written.
func TestDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two training steps")
	}
	teacherDir, studentDir, tokensPath := runFixture(t)
	dir := t.TempDir()
	o := Options{Teacher: teacherDir, Student: studentDir, Data: tokensPath, Out: filepath.Join(dir, "out"), RunDir: filepath.Join(dir, "run"),
		Steps: 5, BatchSize: 2, SeqLen: 16, Accum: 2, PeakLR: 1e-3, ValBatches: 1, Seed: 1, Backend: testBackend(t)}
	p, err := DryRun(o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps != 5 || p.TokensPerStep != 2*17*2 || p.Memory == nil || p.Memory.Total <= 0 {
		t.Errorf("plan %+v: want 5 steps of 68 tokens and a memory estimate", p)
	}
	if p.FirstStepSeconds <= 0 || p.StepSeconds <= 0 || math.Abs(p.EstimatedSeconds-(p.FirstStepSeconds+4*p.StepSeconds)) > 1e-9 {
		t.Errorf("times %+v: want first + 4 × step", p)
	}
	for _, path := range []string{o.Out, o.RunDir} {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("the dry run created %s", path)
		}
	}
}
