package kernel

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/reproduce"
)

// Reproduce runs one of the papers' experiments (reproduce: "aggregation",
// "width-vs-depth", …) at this notebook scale on the demo teacher, with
// progress lines, and shows its report (ShowReport). Results go under
// out/reproduce-notebooks/SCALE/ of the checkout. It is the whole code of
// notebooks 10–17, and what `gominitron reproduce EXPERIMENT --scale S`
// runs from the shell.
func Reproduce(experiment string) *reproduce.Report {
	root := Must(data.FindCheckout(""))
	env := Must(reproduce.Open(reproduce.Options{Root: root, Out: filepath.Join(root, "out", "reproduce-notebooks", Scale()),
		Scale: Scale(), Log: os.Stdout, Backend: Backend()}))
	defer env.Close()
	return ShowReport(env.Run(experiment))
}

// ShowReport displays an experiment's report — its table, each figure under
// its name, and the verdict line "reproduced=true|false: …" — and returns
// it; an error stops the cell (see Check): kernel.ShowReport(env.Run("kd-vs-ce")).
func ShowReport(r *reproduce.Report, err error) *reproduce.Report {
	Check(err)
	Check(Table(r.Headers, r.Rows))
	names, figs, err := r.Figures()
	Check(err)
	for i, p := range figs {
		fmt.Fprintln(Out, names[i])
		Check(Show(p))
	}
	fmt.Fprintf(Out, "reproduced=%v: %s\n", r.Reproduced, r.Verdict)
	return r
}
