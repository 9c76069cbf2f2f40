// Command browsertest drives notebooks/05-interactive-pruning.ipynb in a real
// headless Chromium against a running Jupyter server: it runs all cells,
// waits for the pruning panel, moves the FFN slider with the mouse, and
// asserts that the displayed parameter count and LM loss change. It saves a
// screenshot and prints timings as JSON. With --save-check FILE it instead
// runs all cells of the --url notebook, clicks Save, and checks that FILE
// (that notebook on disk) was rewritten without outputs (save.go).
// scripts/browser_test.sh starts Jupyter and runs both.
//
//	go run ./kernel/browsertest --url 'http://127.0.0.1:8899/notebooks/05-interactive-pruning.ipynb?token=T' \
//	    --screenshot docs/screenshots/interactive-pruning.png
//	go run ./kernel/browsertest --url 'http://127.0.0.1:8899/notebooks/00-quickstart.ipynb?token=T' \
//	    --save-check notebooks/00-quickstart.ipynb
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gominitron/gominitron/kernel"
)

// Timings are what the test measured (seconds).
type Timings struct {
	LoadPage       float64 `json:"load_page_s"`
	RunToPanel     float64 `json:"run_all_to_panel_s"` // run all cells until the panel is ready
	SliderToUpdate float64 `json:"slider_to_update_s"` // mouse move to the new readout
	Total          float64 `json:"total_s"`
	ParamsBefore   string  `json:"params_before"`
	ParamsAfter    string  `json:"params_after"`
	LossBefore     string  `json:"loss_before"`
	LossAfter      string  `json:"loss_after"`
	Export         float64 `json:"export_s"`
	ExportedTo     string  `json:"exported_to"`
	Screenshot     string  `json:"screenshot,omitempty"`
}

func main() {
	url := flag.String("url", "", "notebook URL with the Jupyter token")
	shot := flag.String("screenshot", "", "PNG file for a full-page screenshot after the slider moved")
	chrome := flag.String("chromium", "/usr/bin/chromium", "Chromium executable")
	timeout := flag.Duration("timeout", 8*time.Minute, "overall time limit")
	saveCheck := flag.String("save-check", "", "instead: run all cells of --url's notebook, click Save, and check that this file (the notebook on disk) has no outputs")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "browsertest: --url is required")
		os.Exit(2)
	}
	var result any
	var err error
	if *saveCheck != "" {
		var t *SaveTimings
		if t, err = runAndSave(*url, *saveCheck, *chrome, *timeout); t != nil {
			result = t
		}
	} else {
		var t *Timings
		if t, err = run(*url, *shot, *chrome, *timeout); t != nil {
			result = t
		}
	}
	if result != nil {
		out, _ := json.MarshalIndent(result, "", "  ")
		fmt.Println(string(out))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "browsertest: FAIL:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "browsertest: PASS")
}

// js snippets evaluated in the page (classic Jupyter Notebook front-end).
const (
	jsKernelReady = `!!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected())`
	jsRunAll      = `Jupyter.notebook.execute_all_cells(); true`
	jsErrors      = `Array.from(document.querySelectorAll('.output_error, .output_stderr')).map(e => e.innerText).filter(t => /panic|error|ERROR/.test(t)).join('\n---\n')`
	jsStatus      = `(() => { const r = document.getElementById('` + kernel.ReadoutParamsID + `'); return r ? r.closest('div').parentElement.innerText : ''; })()`
	jsText        = `((id) => { const e = document.getElementById(id); return e ? e.innerText : ''; })`
	jsFFNSlider   = `document.querySelector('td[id$="_ffn"] input[type=range]')`
)

// clickButton clicks the button labelled label; the expression yields whether it exists.
func clickButton(label string) string {
	return `(() => { const b = Array.from(document.querySelectorAll('button')).find(b => b.innerText === '` + label + `'); if (b) b.click(); return !!b; })()`
}

func text(id string) string { return jsText + "('" + id + "')" }

// poll evaluates expr every 200ms until cond accepts its (string) value.
func poll(ctx context.Context, what, expr string, cond func(string) bool) (string, error) {
	for {
		if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr)); err == nil && cond(v) {
			return v, nil
		}
		if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[string](jsErrors)); errs != "" {
			return "", fmt.Errorf("a cell failed while waiting for %s:\n%s", what, errs)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("timed out waiting for %s", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// newBrowser starts headless Chromium: ctx ends after timeout, browser
// lives until done closes it (for a screenshot after a timeout).
func newBrowser(chrome string, timeout time.Duration) (ctx, browser context.Context, done func(), err error) {
	userDir, err := os.MkdirTemp("", "browsertest-chromium-")
	if err != nil {
		return nil, nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(userDir),
		chromedp.WindowSize(1200, 1400),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelT := context.WithTimeout(bctx, timeout)
	return ctx, bctx, func() { cancelT(); cancel(); cancelAlloc(); os.RemoveAll(userDir) }, nil
}

// openAndRunAll opens the notebook at url, waits for its kernel and starts
// "run all cells"; it returns when the kernel was ready (the cells' start).
func openAndRunAll(ctx context.Context, url string) (kernelReady time.Time, err error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return time.Time{}, fmt.Errorf("opening %s: %w", url, err)
	}
	if _, err := poll(ctx, "the kernel", jsKernelReady+`+''`, func(v string) bool { return v == "true" }); err != nil {
		return time.Time{}, err
	}
	kernelReady = time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](jsRunAll)); err != nil {
		return kernelReady, fmt.Errorf("run all cells: %w", err)
	}
	return kernelReady, nil
}

func run(url, shot, chrome string, timeout time.Duration) (t *Timings, err error) {
	start := time.Now()
	ctx, bctx, done, err := newBrowser(chrome, timeout)
	if err != nil {
		return nil, err
	}
	defer done()

	t = &Timings{}
	defer func() { // on failure, keep a picture of the page for the log
		if err != nil && shot != "" {
			fail := strings.TrimSuffix(shot, ".png") + ".fail.png"
			sctx, cancel := context.WithTimeout(bctx, 20*time.Second)
			defer cancel()
			if png, e := chromedp.Run(sctx, chromedp.FullScreenshot(100)); e == nil && os.WriteFile(fail, png, 0o644) == nil {
				fmt.Fprintln(os.Stderr, "browsertest: page at failure:", fail)
			}
		}
	}()
	runStart, err := openAndRunAll(ctx, url)
	if err != nil {
		return t, err
	}
	t.LoadPage = runStart.Sub(start).Seconds()
	if _, err := poll(ctx, "the pruning panel", jsStatus, func(v string) bool { return strings.Contains(v, "ready: move a slider") }); err != nil {
		return t, err
	}
	t.RunToPanel = time.Since(runStart).Seconds()
	if t.ParamsBefore, err = chromedp.Run(ctx, chromedp.Evaluate[string](text(kernel.ReadoutParamsID))); err != nil {
		return t, err
	}
	if t.LossBefore, err = chromedp.Run(ctx, chromedp.Evaluate[string](text(kernel.ReadoutLossID))); err != nil {
		return t, err
	}

	// Move the FFN slider with the mouse: a click at 30% of its track.
	moveStart := time.Now()
	type rect struct{ X, Y, W, H float64 }
	box, err := chromedp.Run(ctx, chromedp.Evaluate[rect](`(() => { const s = `+jsFFNSlider+`; s.scrollIntoView({block: 'center'}); const r = s.getBoundingClientRect(); return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`))
	if err != nil {
		return t, fmt.Errorf("finding the FFN slider: %w", err)
	}
	if box.W == 0 {
		return t, errors.New("the FFN slider has no size")
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(box.X+0.3*box.W, box.Y+box.H/2)); err != nil {
		return t, fmt.Errorf("clicking the FFN slider: %w", err)
	}
	if t.ParamsAfter, err = poll(ctx, "a new parameter count", text(kernel.ReadoutParamsID), func(v string) bool { return v != "" && v != t.ParamsBefore }); err != nil {
		return t, err
	}
	if t.LossAfter, err = poll(ctx, "a new loss", text(kernel.ReadoutLossID), func(v string) bool { return v != "" && v != t.LossBefore }); err != nil {
		return t, err
	}
	t.SliderToUpdate = time.Since(moveStart).Seconds()
	var before, after float64
	fmt.Sscan(t.LossBefore, &before)
	fmt.Sscan(t.LossAfter, &after)
	if math.IsNaN(after) || after == before {
		return t, fmt.Errorf("loss %q → %q did not change", t.LossBefore, t.LossAfter)
	}

	if shot != "" {
		time.Sleep(300 * time.Millisecond) // let the output area settle
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return t, fmt.Errorf("screenshot: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
			return t, err
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			return t, err
		}
		t.Screenshot = shot
	}
	// Materialize the plan with the Export button: the readout names the folder.
	exportStart := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](clickButton("Export pruned model"))); err != nil {
		return t, fmt.Errorf("clicking Export: %w", err)
	}
	status, err := poll(ctx, "the export", jsStatus, func(v string) bool {
		return strings.Contains(v, "exported to ") || strings.Contains(v, "export failed")
	})
	if err != nil {
		return t, err
	}
	if strings.Contains(status, "export failed") {
		return t, fmt.Errorf("export failed: %s", status)
	}
	t.Export = time.Since(exportStart).Seconds()
	t.ExportedTo = strings.TrimSpace(status[strings.Index(status, "exported to ")+len("exported to "):])
	for _, f := range []string{"config.json", "model.safetensors", "pruning.json"} {
		if _, err := os.Stat(filepath.Join(t.ExportedTo, f)); err != nil {
			return t, fmt.Errorf("the exported model lacks %s: %w", f, err)
		}
	}
	// End the cell with the panel's Stop button so the kernel is idle again.
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](clickButton("Stop")))
	t.Total = time.Since(start).Seconds()
	return t, nil
}
