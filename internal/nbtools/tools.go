//go:build tools

// This file pins, through go.mod, the versions of the programs that
// kernel/install.sh builds: GoNB (the Jupyter kernel), goimports (which GoNB
// needs) and gopls (GoNB's autocompletion and documentation; v0.23.0 is the
// last release for Go 1.26). It is never compiled.
package nbtools

import (
	_ "github.com/janpfeifer/gonb"
	_ "golang.org/x/tools/cmd/goimports"
	_ "golang.org/x/tools/gopls"
)
