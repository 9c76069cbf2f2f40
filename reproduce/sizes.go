package reproduce

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/ops/train"
)

// Sizes are the knobs a scale sets.
type Sizes struct {
	CalibSamples int `json:"calib_samples"` // importance calibration sequences
	CalibSeqLen  int `json:"calib_seq_len"` // tokens per calibration sequence

	BatchSize  int     `json:"batch_size"`  // sequences per update
	SeqLen     int     `json:"seq_len"`     // predicted positions per sequence
	ValBatches int     `json:"val_batches"` // fixed validation batches (LM loss)
	PeakLR     float64 `json:"peak_lr"`     // distillation / retraining peak LR (cosine to PeakLR/10, warm-up 10%)

	ShortSteps int `json:"short_steps"` // short distillation (aggregation, iterative)
	Steps      int `json:"steps"`       // main distillation runs (width vs depth, KD vs CE, depth choice, scratch, family chain)
	EvalEvery  int `json:"eval_every"`  // validation LM loss every N updates along a run

	MCItems int `json:"mc_items"` // next-sentence task items

	SearchCandidates int `json:"search_candidates"` // architecture-search shapes distilled
	SearchSteps      int `json:"search_steps"`      // steps per candidate
	SearchEvalEvery  int `json:"search_eval_every"` // checkpoint steps of the ranking

	Seeds int `json:"seeds"` // seeds for the seed-variance runs (KD vs CE, width vs depth): 1 = no variance
}

// SizesFor returns the sizes of a scale: smoke (seconds, CI), cpu (all
// experiments in about an hour on 2 shared cores with the ~1.4M-parameter
// demo teacher), gpu (one H100).
func SizesFor(scale string) (Sizes, error) {
	switch scale {
	case "smoke":
		return Sizes{CalibSamples: 8, CalibSeqLen: 32, BatchSize: 4, SeqLen: 32, ValBatches: 2, PeakLR: 1e-3,
			ShortSteps: 3, Steps: 6, EvalEvery: 3, MCItems: 12,
			SearchCandidates: 3, SearchSteps: 4, SearchEvalEvery: 2, Seeds: 1}, nil
	case "cpu":
		return Sizes{CalibSamples: 128, CalibSeqLen: 64, BatchSize: 16, SeqLen: 64, ValBatches: 8, PeakLR: 1e-3,
			ShortSteps: 40, Steps: 150, EvalEvery: 15, MCItems: 200,
			SearchCandidates: 6, SearchSteps: 100, SearchEvalEvery: 10, Seeds: 2}, nil
	case "gpu":
		return Sizes{CalibSamples: 1024, CalibSeqLen: 256, BatchSize: 32, SeqLen: 256, ValBatches: 32, PeakLR: 1e-3,
			ShortSteps: 200, Steps: 1000, EvalEvery: 50, MCItems: 1000,
			SearchCandidates: 12, SearchSteps: 400, SearchEvalEvery: 25, Seeds: 3}, nil
	}
	return Sizes{}, fmt.Errorf("reproduce: --scale %q unknown (valid smoke, cpu, gpu)", scale)
}

// SmokeTokenizerDir is the tokenizer of the random smoke teacher (relative to
// the checkout).
const SmokeTokenizerDir = "testdata/hf/dev-tokenizer-llama3style"

// BuildSmokeTeacher writes a random-weight 4-layer Llama (hidden 32, FFN 64,
// 4 query heads in 2 KV groups) with the tokenizer of tokenizerDir to dir:
// a stand-in teacher for smoke runs when the demo teacher is absent.
func BuildSmokeTeacher(dir, tokenizerDir string, seed uint64) error {
	tok, err := tokenize.Load(filepath.Join(tokenizerDir, "tokenizer.json"))
	if err != nil {
		return fmt.Errorf("reproduce: smoke teacher: %w", err)
	}
	cfg := &llm.Config{ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: tok.VocabSize(),
		Hidden: 32, FFN: 64, NumLayers: 4, NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 512,
		RMSNormEps: 1e-5, TieEmbeddings: true, HiddenAct: "silu", RopeTheta: 10000, Rope: llm.RopeScaling{Type: "default"},
		TorchDType: "float32", InitializerRange: 0.02}
	if b := int(tok.BOS()); b >= 0 {
		cfg.BOSTokenID = &b
	}
	if e := int(tok.EOS()); e >= 0 {
		cfg.EOSTokenIDs = []int{e}
	}
	m, err := train.NewModel(cfg, seed)
	if err != nil {
		return err
	}
	m.Source = tokenizerDir
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	return llm.SaveModel(dir, m, llm.SaveOptions{})
}
