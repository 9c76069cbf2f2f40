package kernel

import (
	"io"
	"os"

	"github.com/janpfeifer/gonb/gonbui"
)

// display is the notebook front-end; tests replace it with a recorder.
type display interface {
	notebook() bool
	html(html string)
	updateHTML(id, html string)
	png(data []byte)
	svg(svg string)
	uniqueID() string
}

// gonbDisplay sends to GoNB and then waits (gonbui.Sync) until GoNB has
// published the output: GoNB stops reading its pipe as soon as the cell
// program exits, so a large output (a PNG) written just before exiting could
// otherwise be lost — observed when the machine is busy.
type gonbDisplay struct{}

func (gonbDisplay) notebook() bool             { return gonbui.IsNotebook }
func (gonbDisplay) html(html string)           { gonbui.DisplayHTML(html); gonbui.Sync() }
func (gonbDisplay) updateHTML(id, html string) { gonbui.UpdateHTML(id, html); gonbui.Sync() }
func (gonbDisplay) png(data []byte)            { gonbui.DisplayPNG(data); gonbui.Sync() }
func (gonbDisplay) svg(svg string)             { gonbui.DisplaySVG(svg); gonbui.Sync() }
func (gonbDisplay) uniqueID() string           { return gonbui.UniqueID() }

var (
	ui display = gonbDisplay{}
	// Out is where plain-text output goes when not in a notebook.
	Out io.Writer = os.Stdout
)

// IsNotebook reports whether the code runs in a GoNB notebook cell.
func IsNotebook() bool { return ui.notebook() }

// Headless reports whether the notebook is executed without a browser
// (scripts/notebooks.sh sets GOMINITRON_HEADLESS=1): widgets would wait
// forever for a front-end, so cells render static output instead.
func Headless() bool { return os.Getenv("GOMINITRON_HEADLESS") == "1" }

// Interactive reports whether widgets can be used: a notebook with a browser.
func Interactive() bool { return IsNotebook() && !Headless() }
