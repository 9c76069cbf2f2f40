package nbtools

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// NotebookExpect is what an executed notebook must contain, read from the
// notebook's metadata under "gominitron": {"expect": {...}}.
type NotebookExpect struct {
	Images   *int     `json:"images,omitempty"`   // exact number of figures (PNG outputs + HTML outputs holding an <svg>)
	Contains []string `json:"contains,omitempty"` // strings that must appear in some output (text, HTML)
}

// NotebookReport summarizes an executed notebook.
type NotebookReport struct {
	Path        string
	CodeCells   int
	Executed    int // code cells with an execution count
	Images      int // PNG outputs + HTML outputs holding an <svg>
	Errors      []string
	Expect      NotebookExpect
	Kernel      string // metadata.kernelspec.name
	outputs     int
	outputsText string
}

type ipynb struct {
	Cells []struct {
		CellType       string          `json:"cell_type"`
		ExecutionCount *int            `json:"execution_count"`
		Outputs        []ipynbOutput   `json:"outputs"`
		Source         json.RawMessage `json:"source"`
	} `json:"cells"`
	Metadata struct {
		KernelSpec struct {
			Name string `json:"name"`
		} `json:"kernelspec"`
		Gominitron struct {
			Expect NotebookExpect `json:"expect"`
		} `json:"gominitron"`
	} `json:"metadata"`
}

type ipynbOutput struct {
	OutputType string                     `json:"output_type"`
	Text       json.RawMessage            `json:"text"`
	Data       map[string]json.RawMessage `json:"data"`
	EName      string                     `json:"ename"`
	EValue     string                     `json:"evalue"`
}

// multiline decodes Jupyter's "string or list of strings" fields.
func multiline(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []string
	if json.Unmarshal(raw, &parts) == nil {
		return strings.Join(parts, "")
	}
	return ""
}

// ReadNotebookReport parses an executed .ipynb and counts its figures and
// errors.
func ReadNotebookReport(path string) (*NotebookReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb ipynb
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("%s: not a notebook: %w", path, err)
	}
	r := &NotebookReport{Path: path, Expect: nb.Metadata.Gominitron.Expect, Kernel: nb.Metadata.KernelSpec.Name}
	var text strings.Builder
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		r.CodeCells++
		if c.ExecutionCount != nil {
			r.Executed++
		}
		for _, o := range c.Outputs {
			r.outputs++
			switch o.OutputType {
			case "error":
				r.Errors = append(r.Errors, fmt.Sprintf("cell %d: %s: %s", i, o.EName, o.EValue))
			case "stream":
				text.WriteString(multiline(o.Text))
			case "display_data", "execute_result", "update_display_data":
				if _, ok := o.Data["image/png"]; ok {
					r.Images++
				}
				h := multiline(o.Data["text/html"])
				if strings.Contains(h, "<svg") {
					r.Images++
				} else if _, ok := o.Data["image/svg+xml"]; ok {
					r.Images++
				}
				text.WriteString(h)
				text.WriteString(multiline(o.Data["text/plain"]))
				text.WriteString(multiline(o.Data["text/markdown"]))
			}
			text.WriteByte('\n')
		}
	}
	r.outputsText = text.String()
	return r, nil
}

// Check returns an error listing every unmet expectation: a cell not
// executed, an error output, a wrong figure count, a missing string.
func (r *NotebookReport) Check() error {
	var problems []string
	if r.Executed != r.CodeCells {
		problems = append(problems, fmt.Sprintf("%d of %d code cells executed", r.Executed, r.CodeCells))
	}
	problems = append(problems, r.Errors...)
	if r.Expect.Images != nil && *r.Expect.Images != r.Images {
		problems = append(problems, fmt.Sprintf("%d figures, want %d", r.Images, *r.Expect.Images))
	}
	for _, s := range r.Expect.Contains {
		if !strings.Contains(r.outputsText, s) {
			problems = append(problems, fmt.Sprintf("no output contains %q", s))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", r.Path, strings.Join(problems, "; "))
	}
	return nil
}
