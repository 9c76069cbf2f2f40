// Command nbcheck checks executed notebooks (outputs of jupyter nbconvert
// --execute): every code cell ran, no error outputs, and the figure count
// and strings listed in the notebook metadata "gominitron.expect". With
// -strip it instead removes outputs from notebooks before committing them.
//
//	go run ./internal/nbtools/nbcheck out/notebooks/*.ipynb
//	go run ./internal/nbtools/nbcheck -strip notebooks/*.ipynb
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gominitron/gominitron/internal/nbtools"
)

func main() {
	strip := flag.Bool("strip", false, "remove outputs and execution counts (rewrites the files)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: nbcheck [-strip] NOTEBOOK.ipynb...")
		os.Exit(2)
	}
	failed := false
	for _, path := range flag.Args() {
		if *strip {
			changed, err := nbtools.StripNotebook(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "FAIL", err)
				failed = true
			} else if changed {
				fmt.Println("stripped", path)
			}
			continue
		}
		r, err := nbtools.ReadNotebookReport(path)
		if err == nil {
			err = r.Check()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "FAIL", err)
			failed = true
			continue
		}
		fmt.Printf("ok   %s: %d cells, %d figures\n", path, r.CodeCells, r.Images)
	}
	if failed {
		os.Exit(1)
	}
}
