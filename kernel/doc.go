// Package kernel is what notebook cells import: a backend banner, inline
// plots and HTML tables, and live progress for long work. It is the only
// gominitron package that imports GoNB's gonbui; outside a notebook (a
// terminal, a test, the CLI) every function prints plain text instead, once.
//
// The GoNB kernel itself (Jupyter, GoNB built at the version pinned in
// go.mod, goimports, the kernel spec with the backend environment and the
// project wired in through go.work) is installed by kernel/install.sh; see
// docs/notebooks.md.
//
// A notebook's first cell is one line:
//
//	import "github.com/gominitron/gominitron/kernel"
//	%%
//	backend := kernel.MustBanner()
//
// Notebooks scale with one environment variable, GOMINITRON_SCALE
// (smoke | cpu | gpu): cells pick sizes with Pick(smoke, cpu, gpu).
package kernel
