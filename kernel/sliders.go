package kernel

import (
	"errors"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui/widgets"

	"github.com/gominitron/gominitron/ops/interactive"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/plots"
)

// SliderOptions configure PruningSliders.
type SliderOptions struct {
	// Source (the model folder) and ScoresPath are recorded in the exported
	// model's pruning.json; Source's tokenizer files are copied into it.
	Source, ScoresPath string
	// OutDir is the parent folder of exports (default $GOMINITRON_ROOT/out,
	// else ./out); each export gets a new subfolder named after its shape.
	OutDir string
	// Idle ends the interactive cell after this long without any widget
	// event (default 30 minutes), so a forgotten notebook does not hold the
	// kernel forever. The "Stop" button ends it at once.
	Idle time.Duration
	// FrontEndTimeout is how long to wait for the browser to acknowledge
	// the first widget (default 20 s); without an answer (no browser, as in
	// an nbconvert run without GOMINITRON_HEADLESS=1) the static table is
	// shown instead, so the cell never hangs.
	FrontEndTimeout time.Duration
	// Presets are the plans of the static table (default interactive.Presets).
	Presets []interactive.NamedPlan
}

func (o *SliderOptions) defaults(e *interactive.Explorer) {
	if o.OutDir == "" {
		root := os.Getenv("GOMINITRON_ROOT")
		if root == "" {
			root = "."
		}
		o.OutDir = filepath.Join(root, "out")
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Minute
	}
	if o.FrontEndTimeout <= 0 {
		o.FrontEndTimeout = 20 * time.Second
	}
	if o.Presets == nil {
		o.Presets = interactive.Presets(e.Config())
	}
}

// PruningSliders is the interactive pruning panel: sliders for the hidden
// size, FFN size, query heads per KV group and the number of layers to drop
// (plus the layer ranking), a live readout of the plan's shape, parameters,
// weight and KV-cache memory and its LM loss and KL against the full model
// on the Explorer's held-out batch (one forward pass per move, no
// recompilation), an "Export pruned model" button (prune.Apply + Export into
// a new folder under OutDir) and a "Stop" button that ends the cell.
//
// Without a browser (Interactive() false: outside a notebook, or a headless
// run with GOMINITRON_HEADLESS=1) it evaluates opts.Presets and shows them as
// a static table and a parameters-vs-loss plot instead, and returns.
func PruningSliders(e *interactive.Explorer, opts SliderOptions) error {
	if e == nil {
		return errors.New("kernel.PruningSliders: nil explorer")
	}
	opts.defaults(e)
	if !Interactive() {
		return PresetTable(e, opts.Presets)
	}
	return runSliders(e, opts, gonbWidgets{})
}

// PresetTable evaluates plans and shows them as a table (shape, params,
// memory, loss, KL).
func PresetTable(e *interactive.Explorer, plans []interactive.NamedPlan) error {
	rs, err := e.Sweep(plans)
	if err != nil {
		return err
	}
	rows := make([][]string, len(rs))
	for i, r := range rs {
		rows[i] = []string{plans[i].Name, r.Shape.String(), fmt.Sprintf("%s (%.0f%%)", plots.SI(float64(r.Params)), 100*r.ParamsRatio),
			bytesString(r.WeightBytes), bytesString(r.KVCacheBytesPerToken), fmt.Sprintf("%.4f", r.Loss), fmt.Sprintf("%.4f", r.KL),
			fmt.Sprintf("%.0f", 1000*r.Seconds)}
	}
	return Table([]string{"plan", "shape", "params", "weights", "KV cache / token", "LM loss", "KL vs full", "ms"}, rows)
}

// bytesString formats a byte count with binary units.
func bytesString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// widgetFactory creates front-end widgets inside a parent element and
// returns their event channels (tests replace it).
type widgetFactory interface {
	// slider waits until the front-end acknowledges it; events carry new values.
	slider(parentID string, min, max, value int) (<-chan int, error)
	// choice is a drop-down; events carry the chosen index.
	choice(parentID string, options []string) (<-chan int, error)
	// button events carry a click counter.
	button(parentID, label string) (<-chan int, error)
}

// gonbWidgets are GoNB's widgets.
type gonbWidgets struct{}

func (gonbWidgets) slider(parentID string, min, max, value int) (<-chan int, error) {
	w := widgets.Slider(min, max, value).AppendTo(parentID).Done()
	return w.Listen().LatestOnly().C, nil
}

func (gonbWidgets) choice(parentID string, options []string) (<-chan int, error) {
	w := widgets.Select(options).AppendTo(parentID).Done()
	return w.Listen().LatestOnly().C, nil
}

func (gonbWidgets) button(parentID, label string) (<-chan int, error) {
	w := widgets.Button(label).AppendTo(parentID).Done()
	return w.Listen().WithBuffer(4).C, nil
}

// sliderState is the plan the widgets describe.
type sliderState struct {
	hidden, ffn, headsPerGroup, drop int
	layerScore                       string
}

func (s sliderState) plan(numLayers int) prune.Plan {
	p := prune.Plan{Hidden: s.hidden, FFN: s.ffn, HeadsPerGroup: s.headsPerGroup, LayerScore: s.layerScore}
	if s.drop > 0 {
		p.Layers = numLayers - s.drop
	}
	return p
}

// layerScores are the layer rankings of the drop-down, in order.
var layerScores = []string{prune.LayerScoreDropOneLMLoss, prune.LayerScoreBI}

// widget event kinds.
const (
	evHidden = iota
	evFFN
	evHeads
	evDrop
	evScore
	evExport
	evStop
)

type widgetEvent struct{ kind, value int }

// Element ids of the panel (the browser test reads the readout by them).
const (
	ReadoutParamsID = "gominitron-prune-params"
	ReadoutLossID   = "gominitron-prune-loss"
	ReadoutKLID     = "gominitron-prune-kl"
)

func runSliders(e *interactive.Explorer, opts SliderOptions, wf widgetFactory) error {
	cfg := e.Config()
	base := "gominitron_prune_" + ui.uniqueID()
	perGroup := cfg.NumHeads / cfg.NumKVHeads
	row := func(label, id, hint string) string {
		return fmt.Sprintf(`<tr><td style="text-align:left;padding-right:1em">%s</td><td id="%s_%s" style="min-width:260px"></td><td style="text-align:left;color:#666">%s</td></tr>`,
			html.EscapeString(label), base, id, html.EscapeString(hint))
	}
	ui.html(`<div class="gominitron-pruning"><table>` +
		row("hidden size", "hidden", fmt.Sprintf("1 … %d", cfg.Hidden)) +
		row("FFN size", "ffn", fmt.Sprintf("1 … %d", cfg.FFN)) +
		row("query heads per KV group", "heads", fmt.Sprintf("1 … %d (%d KV groups kept)", perGroup, cfg.NumKVHeads)) +
		row("layers to drop", "drop", fmt.Sprintf("0 … %d of %d", cfg.NumLayers-1, cfg.NumLayers)) +
		row("rank layers by", "score", "drop_one_lm_loss: loss with the layer removed; bi: Block Influence") +
		fmt.Sprintf(`</table><div id="%s_buttons" style="margin-top:6px"></div></div>`, base))

	readoutID := base + "_readout"
	show := func(r *interactive.Result, status string) {
		ui.updateHTML(readoutID, readoutHTML(e.Full(), r, status))
	}
	state := sliderState{hidden: cfg.Hidden, ffn: cfg.FFN, headsPerGroup: perGroup, layerScore: layerScores[0]}
	show(e.Full(), "waiting for the browser…")

	// The first widget proves that a browser answers; without one, fall back.
	type created struct {
		c   <-chan int
		err error
	}
	first := make(chan created, 1)
	go func() {
		c, err := wf.slider(base+"_hidden", 1, cfg.Hidden, cfg.Hidden)
		first <- created{c, err}
	}()
	var hiddenC <-chan int
	select {
	case f := <-first:
		if f.err != nil {
			return f.err
		}
		hiddenC = f.c
	case <-time.After(opts.FrontEndTimeout):
		show(e.Full(), fmt.Sprintf("no browser answered within %s: static table of presets instead", opts.FrontEndTimeout))
		return PresetTable(e, opts.Presets)
	}
	ffnC, err := wf.slider(base+"_ffn", 1, cfg.FFN, cfg.FFN)
	if err != nil {
		return err
	}
	headsC, err := wf.slider(base+"_heads", 1, perGroup, perGroup)
	if err != nil {
		return err
	}
	dropC, err := wf.slider(base+"_drop", 0, cfg.NumLayers-1, 0)
	if err != nil {
		return err
	}
	scoreC, err := wf.choice(base+"_score", layerScores)
	if err != nil {
		return err
	}
	exportC, err := wf.button(base+"_buttons", "Export pruned model")
	if err != nil {
		return err
	}
	stopC, err := wf.button(base+"_buttons", "Stop")
	if err != nil {
		return err
	}

	events := make(chan widgetEvent, 64)
	forward := func(kind int, c <-chan int) {
		for v := range c {
			events <- widgetEvent{kind, v}
		}
	}
	for kind, c := range map[int]<-chan int{evHidden: hiddenC, evFFN: ffnC, evHeads: headsC, evDrop: dropC, evScore: scoreC, evExport: exportC, evStop: stopC} {
		go forward(kind, c)
	}
	show(e.Full(), "ready: move a slider")

	last := e.Full()
	idle := time.NewTimer(opts.Idle)
	defer idle.Stop()
	for {
		var ev widgetEvent
		select {
		case ev = <-events:
		case <-idle.C:
			show(last, fmt.Sprintf("stopped after %s without input (re-run the cell to continue)", opts.Idle))
			return nil
		}
		idle.Reset(opts.Idle)
		changed, export, stop := state.apply(ev)
		// Coalesce what arrived meanwhile: one evaluation for a burst of moves.
	drain:
		for {
			select {
			case ev = <-events:
				c, x, s := state.apply(ev)
				changed, export, stop = changed || c, export || x, stop || s
			default:
				break drain
			}
		}
		if stop {
			show(last, "stopped (re-run the cell to continue)")
			return nil
		}
		if changed {
			r, err := e.Evaluate(state.plan(cfg.NumLayers))
			if err != nil {
				show(last, "invalid plan: "+err.Error())
				continue
			}
			last = r
			show(r, "")
		}
		if export {
			show(last, "exporting…")
			dir, err := exportPlan(e, state.plan(cfg.NumLayers), opts)
			if err != nil {
				show(last, "export failed: "+err.Error())
			} else {
				show(last, "exported to "+dir)
			}
		}
	}
}

// apply records one widget event; it reports whether the plan changed and
// whether an export or stop was asked for.
func (s *sliderState) apply(ev widgetEvent) (changed, export, stop bool) {
	old := *s
	switch ev.kind {
	case evHidden:
		s.hidden = ev.value
	case evFFN:
		s.ffn = ev.value
	case evHeads:
		s.headsPerGroup = ev.value
	case evDrop:
		s.drop = ev.value
	case evScore:
		if ev.value >= 0 && ev.value < len(layerScores) {
			s.layerScore = layerScores[ev.value]
		}
	case evExport:
		return false, true, false
	case evStop:
		return false, false, true
	}
	return *s != old, false, false
}

// exportPlan materializes plan p into a new folder under opts.OutDir.
func exportPlan(e *interactive.Explorer, p prune.Plan, opts SliderOptions) (string, error) {
	r, err := e.Estimate(p)
	if err != nil {
		return "", err
	}
	s := r.Shape
	name := fmt.Sprintf("pruned-L%d-h%d-f%d-q%d", s.NumLayers, s.Hidden, s.FFN, s.NumHeads)
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return "", err
	}
	dir := filepath.Join(opts.OutDir, name)
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			break
		}
		dir = filepath.Join(opts.OutDir, fmt.Sprintf("%s-%d", name, i))
	}
	if _, err := e.Materialize(p, dir, opts.Source, opts.ScoresPath); err != nil {
		return "", err
	}
	return dir, nil
}

// readoutHTML renders the live numbers of r against the full model.
func readoutHTML(full, r *interactive.Result, status string) string {
	var b strings.Builder
	b.WriteString(`<div style="font-family:monospace;padding:6px;border-left:4px solid #4a90d9;background:#f4f8fc">`)
	fmt.Fprintf(&b, `<div><b>%s</b>`, html.EscapeString(r.Shape.String()))
	if len(r.DroppedLayers) > 0 {
		fmt.Fprintf(&b, ` — dropped layers %v`, r.DroppedLayers)
	}
	b.WriteString(`</div>`)
	fmt.Fprintf(&b, `<div>parameters <b id="%s">%s</b> (%.1f%% of %s)</div>`, ReadoutParamsID,
		groupDigits(r.Params), 100*r.ParamsRatio, groupDigits(full.Params))
	fmt.Fprintf(&b, `<div>weights %s · KV cache %s per token</div>`, bytesString(r.WeightBytes), bytesString(r.KVCacheBytesPerToken))
	fmt.Fprintf(&b, `<div>LM loss <b id="%s">%.4f</b> (full model %.4f, %+.4f) · KL vs full <b id="%s">%.4f</b> nats/token · %.0f ms</div>`,
		ReadoutLossID, r.Loss, full.Loss, r.Loss-full.Loss, ReadoutKLID, r.KL, 1000*r.Seconds)
	if status != "" {
		fmt.Fprintf(&b, `<div style="color:#555">%s</div>`, html.EscapeString(status))
	}
	b.WriteString(`</div>`)
	return b.String()
}

// groupDigits writes n with thousands separators: 1,234,567.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
