// Package nbtools is the project's notebook and container tooling, kept out
// of the kernel package that notebooks import: it checks executed notebooks
// (every code cell ran, no error output, the figures and strings a notebook's
// metadata "gominitron.expect" lists), strips outputs from notebooks before
// they are committed, and its tests check the committed notebooks and the
// Dockerfile. The command is internal/nbtools/nbcheck:
//
//	go run ./internal/nbtools/nbcheck out/notebooks/*.ipynb
//	go run ./internal/nbtools/nbcheck -strip notebooks/*.ipynb
package nbtools
