package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
)

// TestGenerateCommandOutputs: with a tokenizer in the model folder, generate
// accepts --text and prints the decoded text and continuation; without one it
// prints transformers' ids (reference_generate.json) only, and --text is a
// clear error naming the folder.
func TestGenerateCommandOutputs(t *testing.T) {
	t.Run("demo teacher --text", func(t *testing.T) {
		const prompt = "The jury said that"
		var got struct {
			IDs          []int32 `json:"ids"`
			Text         *string `json:"text"`
			Continuation *string `json:"continuation"`
		}
		out := captureStdout(t, func() error {
			return runGenerateCommand([]string{"--model", "../../models/demo-teacher", "--text", prompt, "--max-new-tokens", "8", "--stop-at-eos=false", "--quiet"})
		})
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		// The README's tokenize example: BOS + 5 tokens.
		wantPrompt := []int32{0, 475, 503, 1154, 556, 329}
		if len(got.IDs) != len(wantPrompt)+8 || !slices.Equal(got.IDs[:len(wantPrompt)], wantPrompt) {
			t.Fatalf("ids %v: want the prompt %v + 8 new ids", got.IDs, wantPrompt)
		}
		if got.Text == nil || got.Continuation == nil {
			t.Fatalf("no text/continuation in %s", out)
		}
		if *got.Text != prompt+*got.Continuation || *got.Continuation == "" {
			t.Errorf("text %q, continuation %q: want text = %q + continuation (non-empty)", *got.Text, *got.Continuation, prompt)
		}
	})
	t.Run("fixture without tokenizer --prompt", func(t *testing.T) {
		const dir = "../../testdata/hf/dev-llama-gqa"
		ref := fixtures.ReadJSON[fixtures.ReferenceGenerate](t, dir+"/reference_generate.json")
		ids := make([]string, len(ref.Prompt))
		for i, id := range ref.Prompt {
			ids[i] = fmt.Sprint(id)
		}
		out := captureStdout(t, func() error {
			return runGenerateCommand([]string{"--model", dir, "--prompt", strings.Join(ids, ","), "--max-new-tokens", "10", "--quiet"})
		})
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		var gotIDs []int32
		json.Unmarshal(got["ids"], &gotIDs)
		if !slices.Equal(gotIDs, ref.Greedy) || len(got) != 1 {
			t.Errorf("printed %s, want only {\"ids\": %v}", out, ref.Greedy)
		}
	})
	t.Run("fixture without tokenizer --text", func(t *testing.T) {
		err := runGenerateCommand([]string{"--model", "../../testdata/hf/dev-llama-gqa", "--text", "hi", "--max-new-tokens", "2"})
		if err == nil || !strings.Contains(err.Error(), "dev-llama-gqa has neither tokenizer.json nor tokenizer.model") {
			t.Errorf("error %v, want one naming the folder without a tokenizer", err)
		}
	})
	t.Run("both --prompt and --text", func(t *testing.T) {
		err := runGenerateCommand([]string{"--model", "../../models/demo-teacher", "--text", "hi", "--prompt", "1", "--max-new-tokens", "2"})
		if err == nil || !strings.Contains(err.Error(), "one of --prompt or --text") {
			t.Errorf("error %v, want one saying to give one of --prompt or --text", err)
		}
	})
}

// TestGenerateProgressOnStderr: generate reports the prompt pass and the
// decode steps (with an ETA) on stderr, stdout holds only the JSON, and
// --quiet prints no progress.
func TestGenerateProgressOnStderr(t *testing.T) {
	const dir = "../../testdata/hf/dev-llama-gqa"
	args := []string{"--model", dir, "--prompt", "1,2,3,4", "--max-new-tokens", "4", "--stop-at-eos=false"}
	for _, quiet := range []bool{false, true} {
		var stderr string
		stdout := captureStdout(t, func() error {
			var err error
			a := args
			if quiet {
				a = append(slices.Clone(args), "--quiet")
			}
			stderr, err = captureStderr(t, func() error { return runGenerateCommand(a) })
			return err
		})
		var got struct {
			IDs []int32 `json:"ids"`
		}
		dec := json.NewDecoder(strings.NewReader(string(stdout)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil || len(got.IDs) != 8 || dec.More() {
			t.Errorf("quiet=%v: stdout %q is not only {\"ids\": [8 ids]}: %v", quiet, stdout, err)
		}
		hasProgress := strings.Contains(stderr, "generate: prefill 1/1 pass over 4 prompt tokens") &&
			strings.Contains(stderr, "generate: decode 3/3 tokens") && strings.Contains(stderr, "ETA")
		if hasProgress == quiet || strings.Contains(stderr, "{") {
			t.Errorf("quiet=%v: stderr %q", quiet, stderr)
		}
	}
}
