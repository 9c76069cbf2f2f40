package main

import (
	"errors"
	"flag"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flagDefault matches the "(default …)" note that the flag package or a
// flag's own description adds to one usage entry.
var flagDefault = regexp.MustCompile(`\(default[ :]`)

// TestHelpEveryCommand runs "COMMAND -h" for every subcommand: it must print
// a usage with its flags, end in flag.ErrHelp (main exits 0 on it and prints
// no "flag: help requested"), and state no flag's default twice.
func TestHelpEveryCommand(t *testing.T) {
	names := slices.Sorted(maps.Keys(commands))
	for _, name := range names {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			out, err := captureStderr(t, func() error { return commands[name].run([]string{"-h"}) })
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("%s -h: error %v, want flag.ErrHelp (exit 0)\n%s", name, err, out)
			}
			if !strings.HasPrefix(out, "usage:") || !strings.Contains(out, "gominitron "+name+" ") {
				t.Errorf("%s -h: want a usage text (\"usage:\" … \"gominitron %s …\"), got:\n%s", name, name, out)
			}
			// One flag's entry is its "  -name" line plus indented description lines.
			for _, entry := range strings.Split(out, "\n  -")[1:] {
				if n := len(flagDefault.FindAllString(entry, -1)); n > 1 {
					t.Errorf("%s -h: flag -%s states its default %d times", name, strings.SplitN(entry, "\n", 2)[0], n)
				}
			}
		})
	}
}
