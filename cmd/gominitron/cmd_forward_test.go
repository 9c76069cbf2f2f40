package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/llm"
)

// cliRelTolerance is the bound on logits/hidden states vs. the
// Hugging Face references: max abs error ≤ cliRelTolerance × max |ref|.
const cliRelTolerance = fixtures.RelTolerance

var cliFixtures = fixtures.Names

var cliFixtureDir = fixtures.Dir

// TestForwardCommandMatchesReference runs `gominitron forward` on every
// fixture's reference input and compares every output with the reference.
func TestForwardCommandMatchesReference(t *testing.T) {
	for _, name := range cliFixtures {
		t.Run(name, func(t *testing.T) {
			dir := cliFixtureDir(name)
			refPath := filepath.Join(dir, "reference.safetensors")
			outPath := filepath.Join(t.TempDir(), "out.safetensors")
			printed := captureStdout(t, func() error {
				return runForwardCommand([]string{"--model", dir, "--input", refPath, "--out", outPath})
			})
			var summary forwardSummary
			if err := json.Unmarshal(printed, &summary); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, printed)
			}
			ref, got := fixtures.ReadSafetensors(t, refPath), fixtures.ReadSafetensors(t, outPath)
			for _, key := range summary.Tensors {
				if _, ok := ref[key]; !ok {
					t.Errorf("output %q has no reference", key)
				}
			}
			checked := 0
			for key, want := range ref {
				if key == "input_ids" {
					continue
				}
				have, ok := got[key]
				if !ok {
					t.Errorf("output lacks %q", key)
					continue
				}
				argmax := llm.Argmax[float32]
				if key != "logits" {
					argmax = nil
				}
				fixtures.CompareToReference(t, key, have, want, cliRelTolerance, argmax)
				checked++
			}
			if checked < 3 {
				t.Errorf("only %d tensors compared", checked)
			}
		})
	}
}

// TestGenerateCommandMatchesReference: `gominitron generate` greedy output
// equals reference_generate.json for every fixture.
func TestGenerateCommandMatchesReference(t *testing.T) {
	for _, name := range cliFixtures {
		t.Run(name, func(t *testing.T) {
			dir := cliFixtureDir(name)
			ref := fixtures.ReadJSON[fixtures.ReferenceGenerate](t, filepath.Join(dir, "reference_generate.json"))
			prompt := make([]string, len(ref.Prompt))
			for i, id := range ref.Prompt {
				prompt[i] = strconv.Itoa(int(id))
			}
			printed := captureStdout(t, func() error {
				return runGenerateCommand([]string{"--model", dir, "--prompt", strings.Join(prompt, ","),
					"--max-new-tokens", fmt.Sprint(len(ref.Greedy) - len(ref.Prompt))})
			})
			var got struct {
				IDs []int32 `json:"ids"`
			}
			if err := json.Unmarshal(printed, &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, printed)
			}
			if !slices.Equal(got.IDs, ref.Greedy) {
				t.Errorf("ids %v, want %v", got.IDs, ref.Greedy)
			}
		})
	}
}

// TestGenerateCommandSamplingAndErrors: sampling with a seed is reproducible;
// bad flags are errors naming the flag.
func TestGenerateCommandSamplingAndErrors(t *testing.T) {
	dir := cliFixtureDir("dev-llama-gqa")
	args := []string{"--model", dir, "--prompt", "1,2,3", "--max-new-tokens", "8", "--temperature", "1.3",
		"--top-k", "50", "--top-p", "0.9", "--seed", "42", "--stop-at-eos=false"}
	a := captureStdout(t, func() error { return runGenerateCommand(args) })
	b := captureStdout(t, func() error { return runGenerateCommand(args) })
	if string(a) != string(b) {
		t.Errorf("same seed, different outputs:\n%s%s", a, b)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--model", dir, "--prompt", "1,x", "--max-new-tokens", "2"}, "--prompt"},
		{[]string{"--model", dir, "--prompt", "1", "--max-new-tokens", "0"}, "--max-new-tokens"},
		{[]string{"--model", dir, "--prompt", "1", "--max-new-tokens", "2", "--top-p", "0"}, "--top-p"},
		{[]string{"--model", dir, "--prompt", "99999", "--max-new-tokens", "2"}, "vocabulary"},
		{[]string{"--model", filepath.Join(dir, "nope"), "--prompt", "1", "--max-new-tokens", "2"}, "nope"},
	}
	for _, c := range cases {
		err := runGenerateCommand(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("generate %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
	outInModel := filepath.Join(dir, "model.safetensors")
	if err := runForwardCommand([]string{"--model", dir, "--input", filepath.Join(dir, "reference.safetensors"), "--out", outInModel}); err == nil ||
		!strings.Contains(err.Error(), "inside, the input folder") {
		t.Errorf("forward --out into the model's own file: error %v, want a refusal", err)
	}
}
