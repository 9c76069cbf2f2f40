package kernel

import (
	"fmt"
	"html"
	"os"
)

// exit ends the cell program; tests replace it.
var exit = os.Exit

// Check stops the cell with a readable error when err is not nil: in a
// notebook the message is shown as a red box (and on stderr) and the cell
// program exits with status 1, which Jupyter marks as a failed cell, with
// no Go stack trace. Outside a notebook it panics with err, as Go code
// expects. It replaces `if err != nil { panic(err) }` in cells:
//
//	kernel.Check(kernel.Table(headers, rows))
func Check(err error) {
	if err == nil {
		return
	}
	if !ui.notebook() {
		panic(err)
	}
	ui.html(ErrorHTML(err))
	fmt.Fprintln(os.Stderr, "error:", err)
	exit(1)
}

// Must returns v, or stops the cell with err (see Check):
//
//	m := kernel.Must(llm.LoadModel(dir, dtype))
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// ErrorHTML renders err as the red box Check shows.
func ErrorHTML(err error) string {
	return `<div style="font-family:monospace;white-space:pre-wrap;padding:6px;border-left:4px solid #c0392b;background:#fdf0ef;color:#7b241c">` +
		"<b>error:</b> " + html.EscapeString(err.Error()) + "</div>"
}
