//go:build !noxla

package backend

// The XLA backend (PJRT plugins, CUDA via an absolute plugin path). Only the
// backend is linked, not go-xla's auto-installer: nothing is downloaded.
import _ "github.com/gomlx/go-xla/compute/xla"

const xlaCompiledIn = true
