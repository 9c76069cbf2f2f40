package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// ModulePath is the Go module path of this project; FindCheckout looks for
// the go.mod that declares it.
const ModulePath = "github.com/gominitron/gominitron"

// FindCheckout returns the root of the gominitron checkout: root when given,
// else $GOMINITRON_ROOT, else the nearest folder at or above the working
// directory whose go.mod declares ModulePath. Notebooks and the reproduce
// command use it to find models/, testdata/ and out/.
func FindCheckout(root string) (string, error) {
	if root == "" {
		root = os.Getenv("GOMINITRON_ROOT")
	}
	if root != "" {
		return filepath.Abs(root)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module "+ModulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the gominitron checkout (run inside it or set GOMINITRON_ROOT)")
		}
		dir = parent
	}
}
