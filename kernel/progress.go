package kernel

import (
	"fmt"
	"github.com/gominitron/gominitron/internal/progress"
	"html"
	"strings"
	"sync"
	"time"
)

// Progress shows the progress of long work (importance passes, training):
// in a notebook one HTML block updated in place (a bar, done/total, elapsed,
// ETA and the last message); elsewhere plain lines, each printed once and at
// most every TextInterval (and always the final state).
//
// Its Update method has the callback signature func(done, total int, msg
// string) that long-running operations accept; it is also an io.Writer, so
// an operation's own progress lines can be routed into the same block
// instead of being printed a second time.
type Progress struct {
	// MinInterval limits notebook redraws (default 200ms); TextInterval
	// limits terminal lines (default 2s). The first and final states are
	// always shown.
	MinInterval, TextInterval time.Duration

	mu          sync.Mutex
	title       string
	id          string
	start       time.Time
	lastDraw    time.Time
	lastText    string
	done, total int
	msg         string
	partial     []byte // io.Writer: bytes of an unfinished line
	finished    bool
	drawn       bool
}

// now is the clock (replaced in tests).
var now = time.Now

// NewProgress starts a progress display titled title.
func NewProgress(title string) *Progress {
	p := &Progress{title: title, start: now(), MinInterval: 200 * time.Millisecond, TextInterval: 2 * time.Second}
	if ui.notebook() {
		p.id = "gominitron_progress_" + ui.uniqueID()
	}
	return p
}

// Func returns Update as a function value, for APIs taking a callback.
func (p *Progress) Func() func(done, total int, msg string) { return p.Update }

// Update records that done of total units are finished (total ≤ 0: unknown)
// and redraws if enough time has passed or the work is complete.
func (p *Progress) Update(done, total int, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	if msg != "" {
		p.msg = msg
	}
	p.drawLocked(total > 0 && done >= total)
}

// Write implements io.Writer: each complete line (ended by \n or \r) becomes
// the message shown with the current counts.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := strings.IndexAny(string(p.partial), "\r\n")
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(p.partial[:i]))
		p.partial = p.partial[i+1:]
		if line != "" {
			p.msg = line
			p.drawLocked(false)
		}
	}
	return len(b), nil
}

// Finish shows the final state (with msg, if not empty) and stops updating.
// In a notebook the block is redrawn one last time (without ETA); it stays
// in the saved notebook.
func (p *Progress) Finish(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	if rest := strings.TrimSpace(string(p.partial)); rest != "" {
		p.msg = rest
	}
	p.partial = nil
	if msg != "" {
		p.msg = msg
	}
	if ui.notebook() {
		ui.updateHTML(p.id, p.htmlLocked(true))
	} else {
		p.printLocked(true)
	}
	p.finished = true
}

func (p *Progress) drawLocked(final bool) {
	if p.finished {
		return
	}
	t := now()
	if ui.notebook() {
		if p.drawn && !final && t.Sub(p.lastDraw) < p.MinInterval {
			return
		}
		ui.updateHTML(p.id, p.htmlLocked(false))
		p.drawn, p.lastDraw = true, t
		return
	}
	if p.drawn && !final && t.Sub(p.lastDraw) < p.TextInterval {
		return
	}
	if p.printLocked(final) {
		p.drawn, p.lastDraw = true, t
	}
}

// printLocked prints the text line unless it equals the last one printed.
func (p *Progress) printLocked(final bool) bool {
	line := p.textLocked()
	if line == p.lastText {
		return false
	}
	fmt.Fprintln(Out, line)
	p.lastText = line
	return true
}

func (p *Progress) elapsedETA() (elapsed, eta time.Duration, haveETA bool) {
	elapsed = now().Sub(p.start)
	eta, haveETA = progress.ETA(elapsed, int64(p.done), int64(p.total))
	return
}

func (p *Progress) countsLocked() string {
	if p.total > 0 {
		return fmt.Sprintf("%d/%d (%.0f%%)", p.done, p.total, 100*float64(p.done)/float64(p.total))
	}
	return fmt.Sprintf("%d", p.done)
}

func (p *Progress) textLocked() string {
	elapsed, eta, haveETA := p.elapsedETA()
	s := fmt.Sprintf("%s: %s, %s", p.title, p.countsLocked(), roundDuration(elapsed))
	if haveETA {
		s += fmt.Sprintf(", ETA %s", roundDuration(eta))
	}
	if p.msg != "" {
		s += " — " + p.msg
	}
	return s
}

func (p *Progress) htmlLocked(final bool) string {
	elapsed, eta, haveETA := p.elapsedETA()
	var b strings.Builder
	b.WriteString(`<div class="gominitron-progress" style="font-family:monospace">`)
	b.WriteString("<b>" + html.EscapeString(p.title) + "</b> ")
	if p.total > 0 {
		fmt.Fprintf(&b, `<progress value="%d" max="%d" style="width:40%%"></progress> `, p.done, p.total)
	}
	b.WriteString(html.EscapeString(p.countsLocked()))
	fmt.Fprintf(&b, " · %s", roundDuration(elapsed))
	if haveETA && !final {
		fmt.Fprintf(&b, " · ETA %s", roundDuration(eta))
	}
	if p.msg != "" {
		b.WriteString("<br>" + html.EscapeString(p.msg))
	}
	b.WriteString("</div>")
	return b.String()
}

func roundDuration(d time.Duration) time.Duration { return progress.Round(d) }
