package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gominitron/gominitron/internal/progress"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
)

func runGenerateCommand(args []string) error {
	fs := newFlagSet("generate",
		"usage: gominitron generate --model DIR (--prompt 1,2,3 | --text STR) --max-new-tokens N [--temperature T --top-k K --top-p P --seed S] [--stop-at-eos=false]",
		"  Prints {\"ids\": [prompt..., new...]}, and when DIR has a tokenizer also \"text\" (all ids decoded) and \"continuation\"",
		"  (the new tokens' text). Greedy unless --temperature > 0. By default a sequence stops after an EOS id",
		"  (eos_token_id of config.json and generation_config.json; the EOS token is included), as transformers does.",
		"  Progress (prompt pass, then decode steps with an ETA at the measured rate) goes to stderr unless --quiet.")
	modelDir := fs.String("model", "", "Hugging Face model folder")
	promptFlag := fs.String("prompt", "", "comma-separated token ids, e.g. 1,2,3")
	textFlag := fs.String("text", "", "prompt text, encoded with the model folder's tokenizer (with BOS, as transformers)")
	maxNew := fs.Int("max-new-tokens", 0, "number of tokens to generate (required)")
	temperature := fs.Float64("temperature", 0, "sampling temperature; 0 = greedy")
	topK := fs.Int("top-k", 0, "sample among the K most likely tokens (0 = all)")
	topP := fs.Float64("top-p", 1, "sample among the most likely tokens with total probability ≥ P (1 = all)")
	seed := fs.Uint64("seed", 0, "sampling seed (same seed → same output)")
	stopAtEOS := fs.Bool("stop-at-eos", true, "stop after an EOS token id")
	dtype := dtypeFlag(fs, "float32", "compute dtype: float32, bfloat16 or float16")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := parseFlags(fs, args, nonNegative("top-k")); err != nil {
		return err
	}
	if *modelDir == "" || (*promptFlag == "") == (*textFlag == "") {
		return fmt.Errorf("--model and one of --prompt or --text are required")
	}
	if *maxNew <= 0 {
		return fmt.Errorf("--max-new-tokens must be > 0")
	}
	if *topP <= 0 || *topP > 1 {
		return fmt.Errorf("--top-p must be in (0, 1], got %g", *topP)
	}
	if *temperature < 0 {
		return fmt.Errorf("--temperature must be ≥ 0, got %g", *temperature)
	}
	// The model folder's tokenizer, when it has one, decodes the output.
	var tok *tokenize.Tokenizer
	var err error
	if path := tokenize.FileIn(*modelDir); path != "" {
		if tok, err = tokenize.Load(path); err != nil {
			return err
		}
	}
	var prompt []int32
	if *textFlag != "" {
		if tok == nil {
			return fmt.Errorf("--text needs a tokenizer: %s has neither tokenizer.json nor tokenizer.model (give --prompt ids)", *modelDir)
		}
		if prompt, err = llm.EncodePrompt(tok, *textFlag); err != nil {
			return fmt.Errorf("--text: %w", err)
		}
	} else if prompt, err = parsePromptIDs(*promptFlag); err != nil {
		return err
	}
	m, runner, err := openRunner(*modelDir, *dtype)
	if err != nil {
		return err
	}
	defer runner.Close()
	opts := llm.GenerateOptions{MaxNewTokens: *maxNew, Temperature: *temperature, TopK: *topK, TopP: *topP, Seed: *seed}
	if *stopAtEOS {
		if opts.StopTokens, err = eosTokenIDs(*modelDir, m.Config); err != nil {
			return err
		}
	}
	if !*quiet {
		meter := &progress.Stages{W: os.Stderr, Prefix: "generate"}
		open := false // a progress line without its newline
		opts.Progress = func(stage string, done, total int) {
			unit := "tokens"
			if stage == "prefill" {
				unit = fmt.Sprintf("pass over %d prompt tokens", len(prompt))
			}
			meter.Update(stage, int64(done), int64(total), unit)
			open = done < total
		}
		defer func() {
			if open { // every row stopped before the last step
				fmt.Fprintln(os.Stderr)
			}
		}()
	}
	if tok != nil {
		g, err := runner.GenerateText(tok, prompt, opts)
		if err != nil {
			return err
		}
		return writeJSON(g)
	}
	out, err := runner.Generate([][]int32{prompt}, opts)
	if err != nil {
		return err
	}
	return writeJSON(struct {
		IDs []int32 `json:"ids"`
	}{out[0]})
}

// parsePromptIDs parses "1,2,3".
func parsePromptIDs(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("--prompt: %q is not a token id (want comma-separated non-negative integers)", f)
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

// eosTokenIDs is the union of config.json's eos_token_id and
// generation_config.json's (an int or a list), as transformers uses them.
func eosTokenIDs(dir string, cfg *llm.Config) ([]int, error) {
	ids := slices.Clone(cfg.EOSTokenIDs)
	path := filepath.Join(dir, "generation_config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ids, nil
	}
	if err != nil {
		return nil, err
	}
	var gen struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &gen); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(gen.EOS) == 0 || string(gen.EOS) == "null" {
		return ids, nil
	}
	var one int
	var list []int
	if err := json.Unmarshal(gen.EOS, &one); err == nil {
		list = []int{one}
	} else if err := json.Unmarshal(gen.EOS, &list); err != nil {
		return nil, fmt.Errorf("%s: eos_token_id must be an int or a list of ints, got %s", path, gen.EOS)
	}
	for _, id := range list {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
