package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

// SaveTimings are what the run-and-save check measured (seconds).
type SaveTimings struct {
	LoadPage      float64 `json:"load_page_s"`
	RunAll        float64 `json:"run_all_s"`
	Save          float64 `json:"save_s"`
	OutputsInPage int     `json:"outputs_in_page"`
	CodeCells     int     `json:"code_cells"`
	SavedFile     string  `json:"saved_file"`
}

// js snippets for the run-and-save check (classic Notebook front-end).
const (
	// Every non-empty code cell has run (a number in its prompt, not "*").
	jsAllRan = `Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code' && c.get_text().trim() !== '').every(c => typeof c.input_prompt_number === 'number') + ''`
	// Output areas the page shows (the user sees the results).
	jsOutputsShown = `document.querySelectorAll('.output_area').length`
	// The toolbar's Save button, as a user clicks it (the menu and Ctrl-S call the same save_checkpoint).
	jsClickSave = `(() => { const b = document.querySelector('button[title="Save and Checkpoint"]') || document.querySelector('#save-notbook button'); if (b) { b.click(); return 'button'; } Jupyter.notebook.save_checkpoint(); return 'api'; })()`
	jsDirty     = `Jupyter.notebook.dirty + ''`
)

// savedNotebook is the part of a .ipynb file the check reads.
type savedNotebook struct {
	Cells []struct {
		CellType       string            `json:"cell_type"`
		ExecutionCount *int              `json:"execution_count"`
		Outputs        []json.RawMessage `json:"outputs"`
	} `json:"cells"`
}

// runAndSave opens a notebook, runs all its cells, waits until they are
// done (failing on an error output), clicks Save, waits for the file on
// disk to be rewritten, and checks that the saved file has no outputs and no
// execution counts (the pre-save hook of kernel/jupyter_notebook_config.py)
// while the page still shows the outputs.
func runAndSave(url, file, chrome string, timeout time.Duration) (t *SaveTimings, err error) {
	start := time.Now()
	ctx, _, done, err := newBrowser(chrome, timeout)
	if err != nil {
		return nil, err
	}
	defer done()
	t = &SaveTimings{SavedFile: file}
	runStart, err := openAndRunAll(ctx, url)
	if err != nil {
		return t, err
	}
	t.LoadPage = runStart.Sub(start).Seconds()
	if _, err := poll(ctx, "every cell to finish", jsAllRan, func(v string) bool { return v == "true" }); err != nil {
		return t, err
	}
	t.RunAll = time.Since(runStart).Seconds()
	if t.OutputsInPage, err = chromedp.Run(ctx, chromedp.Evaluate[int](jsOutputsShown)); err != nil {
		return t, err
	}
	if t.OutputsInPage == 0 {
		return t, fmt.Errorf("the page shows no outputs after running all cells")
	}

	before, err := os.Stat(file)
	if err != nil {
		return t, err
	}
	saveStart := time.Now()
	time.Sleep(1100 * time.Millisecond) // a later mtime than the file's, at one-second resolution
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](jsClickSave)); err != nil {
		return t, fmt.Errorf("clicking Save: %w", err)
	}
	if _, err := poll(ctx, "the save", jsDirty, func(v string) bool {
		st, err := os.Stat(file)
		return v == "false" && err == nil && st.ModTime().After(before.ModTime())
	}); err != nil {
		return t, err
	}
	t.Save = time.Since(saveStart).Seconds()

	data, err := os.ReadFile(file)
	if err != nil {
		return t, err
	}
	var nb savedNotebook
	if err := json.Unmarshal(data, &nb); err != nil {
		return t, fmt.Errorf("the saved %s is not a notebook: %w", file, err)
	}
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		t.CodeCells++
		if c.ExecutionCount != nil || len(c.Outputs) > 0 {
			return t, fmt.Errorf("the saved %s keeps outputs (cell %d: execution count %v, %d outputs): the pre-save hook did not strip them",
				file, i, c.ExecutionCount != nil, len(c.Outputs))
		}
	}
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[int](jsOutputsShown)); err != nil || shown == 0 {
		return t, fmt.Errorf("after saving the page shows %d outputs (%v), want them kept in the browser", shown, err)
	}
	return t, nil
}
