package reproduce

import (
	"fmt"
	"time"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/distill"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/ops/train"
	"github.com/gominitron/gominitron/results"
)

// sdgGenBatch is the number of prompts the teacher continues at once.
const sdgGenBatch = 64

// SyntheticSequences has the teacher continue n short prompts (the first
// promptLen tokens of n random windows of the token file's train split) by
// sampling at temperature 1 until each sequence holds Sizes.SeqLen+1 tokens
// (stop tokens are ignored): n training sequences of teacher-generated text
// [n][SeqLen+1]. Prompts and sampling are seeded by seed.
func (e *Env) SyntheticSequences(teacher *llm.Model, n, promptLen int, seed uint64) ([][]int32, error) {
	width := e.Sizes.SeqLen + 1
	if promptLen < 1 || promptLen >= width {
		return nil, fmt.Errorf("reproduce: synthetic data: prompt length %d must be in [1, %d)", promptLen, width)
	}
	prompts, err := e.tokens.Calibration(data.Train, n, promptLen, seed)
	if err != nil {
		return nil, fmt.Errorf("reproduce: synthetic-data prompts from %s: %w", e.TokenFile, err)
	}
	runner, err := llm.NewRunner(e.Backend, teacher)
	if err != nil {
		return nil, err
	}
	defer runner.Close()
	start := time.Now()
	var out [][]int32
	for i := 0; i < n; i += sdgGenBatch {
		chunk := prompts[i:min(i+sdgGenBatch, n)]
		gen, err := runner.Generate(chunk, llm.GenerateOptions{MaxNewTokens: width - promptLen, Temperature: 1, Seed: seed + uint64(i)})
		if err != nil {
			return nil, fmt.Errorf("reproduce: synthetic data (sequences %d..%d): %w", i, i+len(chunk)-1, err)
		}
		out = append(out, gen...)
		elapsed := time.Since(start).Seconds()
		e.logf("  synthetic data: %d/%d sequences (%.0fs, ETA %.0fs)", len(out), n, elapsed, elapsed*float64(n-len(out))/float64(len(out)))
	}
	return out, nil
}

// SDGResult is the sdg-vs-kd experiment's final losses per seed.
type SDGResult struct {
	Student   results.Shape        `json:"student"`
	PromptLen int                  `json:"prompt_len"`
	Final     map[string][]float64 `json:"final_loss"` // per arm, per seed
}

// SDG arms.
const (
	armKD       = "KD on real text"
	armSDG      = "SDG (LM loss on teacher text)"
	armSDGPlusK = "SDG + KD (KL on teacher text)"
)

// SDGvsKD trains the width-pruned student three ways at equal student tokens
// (Sizes.Steps × BatchSize × SeqLen+1): classical KD (forward KL to the
// teacher's logits) on the corpus; synthetic-data fine-tuning (the teacher
// samples continuations of short corpus prompts, the student trains on them
// with the plain LM loss); and both (forward KL to the teacher's logits on
// the teacher-generated text). All are judged by the validation LM loss on
// the real held-out text, over Sizes.Seeds seeds (data order, prompts and
// sampling).
func (e *Env) SDGvsKD() (*Report, error) {
	start := time.Now()
	r, err := e.newReport(ExpSDGvsKD, "Synthetic-data fine-tuning vs classical KD",
		"Minitron blog (Llama-3.1-Minitron / Mistral-NeMo-Minitron best practices): distillation can be done by fine-tuning the student on teacher-generated text (SDG) or by classical KD on the teacher's logits; the two are complementary.")
	if err != nil {
		return nil, err
	}
	student, err := e.widthStudent(e.Seed)
	if err != nil {
		return nil, err
	}
	res := &SDGResult{Student: prune.ShapeOf(student.Config), PromptLen: max(1, e.Sizes.SeqLen/8), Final: map[string][]float64{}}
	n := e.Sizes.Steps * e.Sizes.BatchSize // one epoch of synthetic text: every arm sees Steps × BatchSize sequences
	kl := distill.DefaultLoss()
	var runs []results.Run
	for i, seed := range e.seeds() {
		synth, err := e.SyntheticSequences(e.Teacher, n, res.PromptLen, seed)
		if err != nil {
			return nil, err
		}
		for _, arm := range []struct {
			name      string
			teacher   *llm.Model
			synthetic bool
		}{{armKD, e.Teacher, false}, {armSDG, nil, true}, {armSDGPlusK, e.Teacher, true}} {
			spec := RunSpec{Name: arm.name, Teacher: arm.teacher, Student: student, Steps: e.Sizes.Steps, EvalEvery: e.Sizes.EvalEvery, Seed: seed}
			if arm.teacher != nil {
				spec.Loss = &kl
			}
			if arm.synthetic {
				if spec.Batches, err = train.NewSequenceLoader(synth, e.Sizes.BatchSize, seed); err != nil {
					return nil, err
				}
			}
			run, _, err := e.Train(spec)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				runs = append(runs, run)
			}
			res.Final[arm.name] = append(res.Final[arm.name], finalVal(run))
		}
	}
	r.Headers = []string{"objective", "training text", "student", "LM loss after pruning", fmt.Sprintf("LM loss after %d steps", e.Sizes.Steps)}
	for i, arm := range []struct{ name, text string }{
		{armKD, "corpus"}, {armSDG, "teacher samples"}, {armSDGPlusK, "teacher samples"},
	} {
		r.Rows = append(r.Rows, []string{arm.name, arm.text, res.Student.String(), f4(firstVal(runs[i])), pm(res.Final[arm.name])})
	}
	kd, sdg, both := res.Final[armKD], res.Final[armSDG], res.Final[armSDGPlusK]
	bothBest := LowerBeyondSpread(both, kd) && LowerBeyondSpread(both, sdg)
	r.Reproduced = bothBest
	km, _ := meanStd(kd)
	sm, _ := meanStd(sdg)
	r.Verdict = fmt.Sprintf("Validation LM loss on real held-out text after %d steps over %d seeds: KD %s, SDG %s, SDG + KD %s; combined is %sbetter than both beyond the seed spread (KD %s SDG by %.4f nats).",
		e.Sizes.Steps, len(kd), pm(kd), pm(sdg), pm(both), map[bool]string{true: "", false: "not "}[bothBest], lower(km < sm, "beats", "trails"), abs(sm-km))
	r.Notes = append(r.Notes, fmt.Sprintf("synthetic text: %d sequences per seed, each a %d-token corpus prompt continued by the teacher at temperature 1 to %d tokens; the KD run sees %d corpus sequences of the same length",
		n, res.PromptLen, e.Sizes.SeqLen+1, n))
	r.Runs, r.Details = runs, res
	r.curvesFigure("curves", "SDG vs KD: validation LM loss on real text", runs)
	r.ElapsedSec = time.Since(start).Seconds()
	return r, nil
}
