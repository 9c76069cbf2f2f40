// Command gominitron is the shell door into the ops/ packages: inspect, run,
// score, prune, train, distill and evaluate Llama-family models.
//
// Usage:
//
//	gominitron [--backend CONFIG] COMMAND [flags]
//
// Every subcommand lives in its own file (cmd_*.go); commands.go lists them
// all with their summaries. Subcommands parse their own flags, call one
// public ops/ function, and write JSON or files. Errors go to stderr and the
// exit status is non-zero.
package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// command is one subcommand of the CLI.
type command struct {
	name    string                    // e.g. "inspect" or "tokenizer train"
	summary string                    // one line for the usage text
	run     func(args []string) error // args after the command name
}

var commands = map[string]*command{}

// register adds a subcommand; names may have two words ("data fetch").
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("duplicate command " + c.name)
	}
	commands[c.name] = c
}

// newFlagSet returns the flag set of the command name (ContinueOnError). Its
// "-h" prints the usage lines (the first starts "usage: gominitron name …"),
// the command's summary, and the flags.
func newFlagSet(name string, usage ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		for _, line := range usage {
			fmt.Fprintln(fs.Output(), line)
		}
		if c, ok := commands[name]; ok {
			fmt.Fprintln(fs.Output(), "  "+c.summary)
		}
		fs.PrintDefaults()
	}
	return fs
}

// extractBackendFlag removes every --backend X / --backend=X from args and
// exports its value as GOMLX_BACKEND, so it overrides the environment for
// whatever subcommand runs.
func extractBackendFlag(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--backend" || a == "-backend":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --backend needs a value (e.g. go, or xla:/abs/path/plugin.so)")
			}
			os.Setenv("GOMLX_BACKEND", args[i+1])
			i++
		case strings.HasPrefix(a, "--backend=") || strings.HasPrefix(a, "-backend="):
			os.Setenv("GOMLX_BACKEND", a[strings.Index(a, "=")+1:])
		default:
			rest = append(rest, a)
		}
	}
	return rest, nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gominitron [--backend CONFIG] COMMAND [flags]\n\ncommands:")
	names := slices.Sorted(maps.Keys(commands))
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-18s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'gominitron COMMAND -h' for the flags of one command.")
}

func main() {
	args, err := extractBackendFlag(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gominitron:", err)
		os.Exit(2)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			os.Exit(2)
		}
		return
	}
	var cmd *command
	var rest []string
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			cmd, rest = c, args[2:]
		}
	}
	if cmd == nil {
		if c, ok := commands[args[0]]; ok {
			cmd, rest = c, args[1:]
		}
	}
	if cmd == nil {
		fmt.Fprintf(os.Stderr, "gominitron: unknown command %q\n\n", strings.Join(args[:min(2, len(args))], " "))
		usage()
		os.Exit(2)
	}
	if err := flagNamed(cmd.run(rest)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h / --help: the flag set printed its usage; not a failure
		}
		fmt.Fprintf(os.Stderr, "gominitron %s: %v\n", cmd.name, err)
		os.Exit(1)
	}
}
