// Package kernel is what notebook cells import: a one-line set-up, errors
// shown as a readable cell error, inline plots and HTML tables, live progress
// for long work, the interactive pruning panel and one-call experiment
// reports. It is the only gominitron package that imports GoNB's gonbui;
// outside a notebook (a terminal, a test, the CLI) every function prints
// plain text instead, once.
//
// The first cell of notebooks 00–05 is one line, and every later cell opens
// the same demo and backend:
//
//	kernel.Setup()        // first cell: backend banner, demo model, notes
//	d, b := kernel.Open() // later cells
//	imp, scoresPath := kernel.Scores(d, b)
//	kernel.Plot(plots.LayerImportance(imp))
//	m := kernel.Must(llm.LoadModel(dir, d.StorageDType()))
//
// Must, Check and Plot stop the cell with the error's message (a red box,
// no Go stack trace) instead of `if err != nil { panic(err) }`. Notebooks
// 10–17 are one call each: kernel.Reproduce("kd-vs-ce").
//
// The GoNB kernel itself (Jupyter, GoNB built at the version pinned in
// go.mod, goimports, the kernel spec with the backend environment and the
// project wired in through go.work) is installed by kernel/install.sh; see
// docs/notebooks.md. Notebook tooling (checking executed notebooks,
// stripping outputs) is in internal/nbtools.
//
// Notebooks scale with one environment variable, GOMINITRON_SCALE
// (smoke | cpu | gpu): cells pick sizes with Pick(smoke, cpu, gpu).
package kernel
