package evaluate

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Sample is one line of --log-samples: everything needed to audit one
// example's score.
type Sample struct {
	DocID      string             `json:"doc_id"`
	Prompt     string             `json:"prompt"`               // the whole context, few-shot examples included
	Generation *string            `json:"generation,omitempty"` // generation tasks: the continuation after stop strings (present even when empty)
	Filtered   map[string]string  `json:"filtered,omitempty"`   // gsm8k: the answer each filter extracted
	Choices    []string           `json:"choices,omitempty"`    // log-likelihood tasks: the continuations scored
	LogLiks    []float64          `json:"loglikelihoods,omitempty"`
	Target     string             `json:"target"`
	Metrics    map[string]float64 `json:"metrics"`
}

// TaskResult is the score of one task in any format: each metric's mean
// and standard error over the examples, and the examples themselves.
type TaskResult struct {
	Format  Format             `json:"format"`
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"`
	Stderr  map[string]float64 `json:"stderr"`
	Samples []Sample           `json:"-"`
}

// MetricNames returns the result's metric names, sorted.
func (r *TaskResult) MetricNames() []string {
	names := slices.Sorted(maps.Keys(r.Metrics))
	return names
}

// aggregate fills Metrics and Stderr with the mean and standard error of
// every per-sample metric.
func aggregate(format Format, samples []Sample) *TaskResult {
	r := &TaskResult{Format: format, N: len(samples), Metrics: map[string]float64{}, Stderr: map[string]float64{}, Samples: samples}
	per := map[string][]float64{}
	for _, s := range samples {
		for k, v := range s.Metrics {
			per[k] = append(per[k], v)
		}
	}
	for k, vs := range per {
		r.Metrics[k], r.Stderr[k] = MeanStderr(vs)
	}
	return r
}

// Metric names of the generation formats (the harness's "metric,filter").
const (
	MetricStrictMatch   = "exact_match,strict-match"
	MetricFlexibleMatch = "exact_match,flexible-extract"
	MetricRougeL        = "rougeL"
	MetricRougeLsum     = "rougeLsum"
	MetricPassAt1       = "pass@1"
)

// DefaultMetric is the metric a format reports in the benchmark table when
// a suite entry names none (the Minitron blog's Table 1 choices).
func DefaultMetric(f Format) string {
	switch f {
	case FormatGSM8K:
		return MetricStrictMatch
	case FormatXLSum:
		return MetricRougeLsum
	case FormatMBPP:
		return MetricPassAt1
	case FormatHellaSwag, FormatARC:
		return "acc_norm"
	case FormatTruthfulQAMC2:
		return "mc2"
	}
	return "acc"
}

// FormatMetrics lists the metrics a format reports.
func FormatMetrics(f Format) []string {
	switch f {
	case FormatGSM8K:
		return []string{MetricStrictMatch, MetricFlexibleMatch}
	case FormatXLSum:
		return []string{MetricRougeL, MetricRougeLsum}
	case FormatMBPP:
		return []string{MetricPassAt1}
	case FormatTruthfulQAMC2:
		return []string{"mc2", "acc"}
	}
	return []string{"acc", "acc_norm"}
}

// gsm8k answer extraction, from the harness's gsm8k.yaml filter_list.
var (
	gsm8kStrict   = regexp.MustCompile(`#### (\-?[0-9\.\,]+)`)
	gsm8kFlexible = regexp.MustCompile(`(-?[$0-9.,]{2,})|(-?[0-9]+)`)
)

// invalidAnswer is the harness's RegexFilter fallback.
const invalidAnswer = "[invalid]"

// extractAnswer is the harness's RegexFilter + take_first on one response:
// all non-overlapping matches, the one at groupSelect (negative counts from
// the end); with capture groups, the first non-empty group of that match;
// then stripped. No match: "[invalid]".
func extractAnswer(re *regexp.Regexp, text string, groupSelect int) string {
	ms := re.FindAllStringSubmatch(text, -1)
	if len(ms) == 0 {
		return invalidAnswer
	}
	if groupSelect < 0 {
		groupSelect += len(ms)
	}
	if groupSelect < 0 || groupSelect >= len(ms) {
		return invalidAnswer
	}
	m := ms[groupSelect]
	if len(m) == 1 {
		return strings.TrimSpace(m[0])
	}
	for _, g := range m[1:] {
		if g != "" {
			return strings.TrimSpace(g)
		}
	}
	return invalidAnswer
}

// gsm8kIgnore are gsm8k.yaml's regexes_to_ignore, applied in order. The
// last, "\.$", is Python's: "$" also matches before a final newline, so
// here it is written as a dot followed by an optional newline at the end,
// the newline kept.
var gsm8kIgnore = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`,`), ""},
	{regexp.MustCompile(`\$`), ""},
	{regexp.MustCompile(`(?s).*#### `), ""},
	{regexp.MustCompile(`\.(\n?)\z`), "$1"},
}

// gsm8kNormalize is the harness's exact_match preprocessing for gsm8k:
// regexes_to_ignore removed, then lower case (ignore_case: true).
func gsm8kNormalize(s string) string {
	for _, ig := range gsm8kIgnore {
		s = ig.re.ReplaceAllString(s, ig.repl)
	}
	return strings.ToLower(s)
}

// GSM8KScores returns the filtered answers and exact-match scores of one
// generation against the reference answer.
func GSM8KScores(generation, reference string) (filtered map[string]string, metrics map[string]float64) {
	strict := extractAnswer(gsm8kStrict, generation, 0)
	flexible := extractAnswer(gsm8kFlexible, generation, -1)
	ref := gsm8kNormalize(reference)
	return map[string]string{"strict-match": strict, "flexible-extract": flexible},
		map[string]float64{
			MetricStrictMatch:   boolFloat(gsm8kNormalize(strict) == ref),
			MetricFlexibleMatch: boolFloat(gsm8kNormalize(flexible) == ref),
		}
}

// CodeRunner runs a Python program and reports whether it exited cleanly
// (MBPP's pass@1 check). SandboxRunner is the only implementation that runs
// real code.
type CodeRunner interface {
	RunPython(program string) (passed bool, detail string, err error)
}

// MBPPProgram is what runs for one MBPP example, as the harness's pass@1
// (Hugging Face evaluate's code_eval) builds it: the generated code, a
// newline, then the test asserts one per line.
func MBPPProgram(generation string, tests []string) string {
	return generation + "\n" + strings.Join(tests, "\n")
}

// GenOptions configures EvaluateGen.
type GenOptions struct {
	Shots        int
	Seed         uint64
	Limit        int   // first Limit docs only (0 = all)
	FirstN       *bool // few-shot sampler; nil = the format's default
	MaxGenTokens int   // 0 = the task's (256)
	RougeStemmer bool  // xlsum: Porter-stem ROUGE tokens (rouge_score's use_stemmer; off as in the harness)
	// Fewshot, when not empty, holds the examples instead of the task's
	// other docs (the harness's separate few-shot split).
	Fewshot []GenDoc
}

// EvaluateGen scores a generation task: prompts built as the harness does,
// all generated by gen in one call (it batches), then scored per format.
// code runs MBPP programs and is required for mbpp only.
func EvaluateGen(gen Generator, code CodeRunner, t *GenTask, opts GenOptions) (*TaskResult, error) {
	n := len(t.Docs)
	if opts.Limit > 0 && opts.Limit < n {
		n = opts.Limit
	}
	if t.Format == FormatMBPP && code == nil {
		return nil, fmt.Errorf("evaluate: mbpp needs a sandbox to run the generated code")
	}
	firstN := t.FirstN
	if opts.FirstN != nil {
		firstN = *opts.FirstN
	}
	prompts, err := GenPrompts(t, opts.Fewshot, n, opts.Shots, opts.Seed, firstN)
	if err != nil {
		return nil, err
	}
	uo := UntilOptions{Until: t.Until, MaxGenTokens: t.MaxGenTokens}
	if opts.MaxGenTokens > 0 {
		uo.MaxGenTokens = opts.MaxGenTokens
	}
	gens, err := gen.GenerateUntil(prompts, uo)
	if err != nil {
		return nil, err
	}
	if len(gens) != n {
		return nil, fmt.Errorf("evaluate: generator returned %d texts for %d prompts", len(gens), n)
	}
	samples := make([]Sample, n)
	for i := range n {
		d := t.Docs[i]
		s := Sample{DocID: d.ID, Prompt: prompts[i], Generation: &gens[i], Target: d.Reference}
		switch t.Format {
		case FormatGSM8K:
			s.Filtered, s.Metrics = GSM8KScores(gens[i], d.Reference)
		case FormatXLSum:
			rouge := Rouge{UseStemmer: opts.RougeStemmer}
			s.Metrics = map[string]float64{
				MetricRougeL:    rouge.L(d.Reference, gens[i]).F,
				MetricRougeLsum: rouge.Lsum(d.Reference, gens[i]).F,
			}
		case FormatMBPP:
			ok, _, err := code.RunPython(MBPPProgram(gens[i], d.Tests))
			if err != nil {
				return nil, fmt.Errorf("evaluate: mbpp task %s: %w", d.ID, err)
			}
			s.Metrics = map[string]float64{MetricPassAt1: boolFloat(ok)}
		default:
			return nil, fmt.Errorf("evaluate: %q is not a generation format", t.Format)
		}
		samples[i] = s
	}
	return aggregate(t.Format, samples), nil
}
