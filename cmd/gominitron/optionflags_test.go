package main

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFlagNamed: option fields in an error become their flags; other text,
// unknown fields and the wrapped error are kept.
func TestFlagNamed(t *testing.T) {
	base := errors.New("distill: Options.Steps must be > 0, got 0")
	for _, c := range []struct{ in, want string }{
		{"distill: Options.Steps must be > 0, got 0", "distill: --steps must be > 0, got 0"},
		{"train: x holds checkpoints: set RecipeOptions.Resume to continue", "train: x holds checkpoints: set --resume to continue"},
		{"prune: rerun importance with importance.Options.BlockSize 2", "prune: rerun importance with --blocks 2"},
		{"distill: Options.Student, Options.Data and Options.Out are required", "distill: --student, --data and --out are required"},
		{"distill: Options.Unknown stays", "distill: Options.Unknown stays"},
		{"no field here", "no field here"},
	} {
		if got := flagNamed(errors.New(c.in)).Error(); got != c.want {
			t.Errorf("flagNamed(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if err := flagNamed(base); !errors.Is(err, base) {
		t.Errorf("flagNamed lost the wrapped error: %v", err)
	}
	if flagNamed(nil) != nil {
		t.Error("flagNamed(nil) != nil")
	}
}

// flagInText is a CLI flag ("--steps") inside a string.
var flagInText = regexp.MustCompile(`(^|[^-\w])--[a-z][a-z0-9-]*`)

// TestLibraryErrorsNameNoFlags scans the library packages (everything but
// cmd/ and package main programs) for errors.New / fmt.Errorf whose text
// names a CLI flag: a library error names the option field instead
// ("Options.Steps"), and optionFlags maps it to the flag in the CLI.
func TestLibraryErrorsNameNoFlags(t *testing.T) {
	root := filepath.Join("..", "..")
	var libs []string
	for _, dir := range []string{"ops", "results", "plots", "kernel", "internal", "reproduce"} {
		if _, err := os.Stat(filepath.Join(root, dir)); err == nil {
			libs = append(libs, filepath.Join(root, dir))
		}
	}
	fset := token.NewFileSet()
	checked := 0
	for _, lib := range libs {
		err := filepath.WalkDir(lib, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			if f.Name.Name == "main" { // a program's own flags
				return nil
			}
			checked++
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok || !(pkg.Name == "errors" && sel.Sel.Name == "New" || pkg.Name == "fmt" && sel.Sel.Name == "Errorf") {
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(lit.Value)
				if m := flagInText.FindString(s); m != "" {
					t.Errorf("%s: library error names the flag %q: name the option field and map it in optionFlags (cmd/gominitron/optionflags.go)",
						fset.Position(lit.Pos()), strings.TrimLeft(m, " ("))
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("scanned only %d library files: is the repository layout as expected?", checked)
	}
}
