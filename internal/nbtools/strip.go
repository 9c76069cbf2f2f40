package nbtools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/gominitron/gominitron/internal/fileio"
)

// StripNotebook removes outputs and execution counts from a notebook file
// (notebooks are committed without outputs), rewriting it atomically. It
// reports whether the file changed.
func StripNotebook(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var nb map[string]any
	if err := json.Unmarshal(data, &nb); err != nil {
		return false, fmt.Errorf("%s: not a notebook: %w", path, err)
	}
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok || cell["cell_type"] != "code" {
			continue
		}
		cell["outputs"] = []any{}
		cell["execution_count"] = nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb); err != nil {
		return false, err
	}
	if bytes.Equal(buf.Bytes(), data) {
		return false, nil
	}
	return true, fileio.WriteFile(path, buf.Bytes())
}

// IsStripped reports whether a notebook has no outputs and no execution counts.
func IsStripped(path string) (bool, error) {
	r, err := ReadNotebookReport(path)
	if err != nil {
		return false, err
	}
	return r.Executed == 0 && r.outputs == 0, nil
}
