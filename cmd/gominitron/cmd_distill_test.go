package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/ops/distill"
)

// TestDistillFlagErrors: missing or bad flags are reported before any work.
func TestDistillFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--student", "s", "--data", "d", "--out", "o"}, "--steps are required"},
		{[]string{"--student", "s", "--data", "d", "--out", "o", "--steps", "3", "--loss", "mse"}, "unknown logits loss"},
		{[]string{"--student", "s", "--data", "d", "--out", "o", "--steps", "3"}, "--teacher is required"},
		{[]string{"--teacher", "t", "--student", "s", "--data", "d", "--out", "o", "--steps", "3", "--intermediate-loss", "l1"}, "unknown intermediate loss"},
		{[]string{"--teacher", "t", "--student", "s", "--data", "d", "--out", "o", "--steps", "3", "--dtype", "int8"}, "--dtype"},
		{[]string{"--teacher", "t", "--student", "s", "--data", "d", "--out", "o", "--steps", "3", "extra"}, "unexpected arguments"},
		{[]string{"--student", "s", "--data", "d", "--out", "o", "--steps", "3", "--loss", "ce"}, "gominitron finetune --model STUDENT"},
	} {
		err := runDistill(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// TestDistillDryRun: --dry-run prints the plan as JSON (steps, tokens per
// step, memory, measured step times) and creates neither --out nor the run
// folder.
func TestDistillDryRun(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOMINITRON_DATA", filepath.Join(dir, "data")) // the text corpus's token cache
	teacher := filepath.Join("..", "..", "models", "demo-teacher")
	out := filepath.Join(dir, "out")
	stdout := captureStdout(t, func() error {
		return runDistill([]string{"--teacher", teacher, "--student", teacher, "--data", filepath.Join("..", "..", "docs", "method.md"),
			"--steps", "4", "--batch", "2", "--seq-len", "32", "--val-batches", "-1", "--out", out, "--dry-run"})
	})
	var plan distill.Plan
	if err := json.Unmarshal(stdout, &plan); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if plan.Steps != 4 || plan.TokensPerStep != 2*33 || plan.Memory == nil || plan.EstimatedSeconds <= 0 {
		t.Errorf("plan %+v", plan)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 { // only the token cache
		t.Errorf("the dry run wrote %v", entries)
	}
}
