package main

import (
	"strings"
	"testing"
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
	} {
		err := runDistill(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}
