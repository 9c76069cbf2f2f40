//go:build tools

// This file pins, through go.mod, the versions of the programs that
// kernel/install.sh builds: GoNB (the Jupyter kernel) and goimports (which
// GoNB needs). It is never compiled.
package nbtools

import (
	_ "github.com/janpfeifer/gonb"
	_ "golang.org/x/tools/cmd/goimports"
)
