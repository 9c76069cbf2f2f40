package kernel

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/gominitron/gominitron/ops/train"
	"github.com/gominitron/gominitron/plots"
	"github.com/gominitron/gominitron/results"
)

// recorder is a fake notebook front-end.
type recorder struct {
	isNotebook bool
	htmls      []string
	updates    []struct{ id, html string }
	pngs       [][]byte
	svgs       []string
}

func (r *recorder) notebook() bool { return r.isNotebook }
func (r *recorder) html(h string)  { r.htmls = append(r.htmls, h) }
func (r *recorder) updateHTML(id, h string) {
	r.updates = append(r.updates, struct{ id, html string }{id, h})
}
func (r *recorder) png(d []byte)     { r.pngs = append(r.pngs, d) }
func (r *recorder) svg(s string)     { r.svgs = append(r.svgs, s) }
func (r *recorder) uniqueID() string { return "42" }

// fakeEnv installs a recorder, a text buffer and a manual clock.
func fakeEnv(t *testing.T, notebook bool) (*recorder, *bytes.Buffer, *time.Time) {
	t.Helper()
	rec := &recorder{isNotebook: notebook}
	var buf bytes.Buffer
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	oldUI, oldOut, oldNow := ui, Out, now
	ui, Out, now = rec, &buf, func() time.Time { return clock }
	t.Cleanup(func() { ui, Out, now = oldUI, oldOut, oldNow })
	return rec, &buf, &clock
}

func TestTable(t *testing.T) {
	headers := []string{"shape", "params", "loss"}
	rows := [][]string{{"L8 <h256>", "8.1M", "3.31"}, {"L12", "7.9M", "3.42"}}
	t.Run("terminal", func(t *testing.T) {
		rec, out, _ := fakeEnv(t, false)
		if err := Table(headers, rows); err != nil {
			t.Fatal(err)
		}
		want := "shape      params  loss\nL8 <h256>  8.1M    3.31\nL12        7.9M    3.42\n"
		if out.String() != want {
			t.Fatalf("got\n%q\nwant\n%q", out.String(), want)
		}
		if len(rec.htmls) != 0 {
			t.Fatal("HTML displayed outside a notebook")
		}
	})
	t.Run("notebook", func(t *testing.T) {
		rec, out, _ := fakeEnv(t, true)
		if err := Table(headers, rows); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || len(rec.htmls) != 1 {
			t.Fatalf("text %q, %d html outputs", out.String(), len(rec.htmls))
		}
		h := rec.htmls[0]
		for _, want := range []string{"<th>params</th>", "L8 &lt;h256&gt;", `<td style="text-align:right">3.31</td>`} {
			if !strings.Contains(h, want) {
				t.Fatalf("table HTML lacks %q:\n%s", want, h)
			}
		}
		if strings.Count(h, "<tr>") != 3 {
			t.Fatalf("want 3 rows (header + 2):\n%s", h)
		}
	})
	t.Run("ragged", func(t *testing.T) {
		fakeEnv(t, true)
		if err := Table(headers, [][]string{{"a"}}); err == nil || !strings.Contains(err.Error(), "row 0") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestShow(t *testing.T) {
	imp, err := results.LoadImportance("../testdata/hf/dev-llama-gqa/reference_importance.json")
	if err != nil {
		t.Fatal(err)
	}
	p := Must(plots.LayerImportance(imp))
	rec, out, _ := fakeEnv(t, true)
	if err := Show(p); err != nil {
		t.Fatal(err)
	}
	if err := ShowSVG(p); err != nil {
		t.Fatal(err)
	}
	if len(rec.pngs) != 1 || len(rec.svgs) != 1 || out.Len() != 0 {
		t.Fatalf("pngs %d svgs %d text %q", len(rec.pngs), len(rec.svgs), out.String())
	}
	img, err := png.Decode(bytes.NewReader(rec.pngs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w != int(float64(plots.DefaultWidth/vg.Inch)*plots.PNGDPI) {
		t.Fatalf("PNG width %d", w)
	}
	if !strings.Contains(rec.svgs[0], "<svg") {
		t.Fatal("not an SVG")
	}

	rec, out, _ = fakeEnv(t, false)
	if err := Show(p); err != nil {
		t.Fatal(err)
	}
	if len(rec.pngs) != 0 || !strings.Contains(out.String(), `[plot "Layer importance"`) {
		t.Fatalf("terminal Show: pngs %d, text %q", len(rec.pngs), out.String())
	}
	if err := Show(nil); err == nil {
		t.Fatal("Show(nil) succeeded")
	}
}

func TestProgressNotebook(t *testing.T) {
	rec, out, clock := fakeEnv(t, true)
	p := NewProgress("importance")
	const steps, stepTime = 100, 10 * time.Millisecond
	for i := 1; i <= steps; i++ {
		*clock = clock.Add(stepTime)
		p.Update(i, steps, "batch")
	}
	if out.Len() != 0 {
		t.Fatalf("printed text in a notebook: %q", out.String())
	}
	// One draw per MinInterval (200ms over 1s → ~5), the first, and the final.
	if n := len(rec.updates); n < 5 || n > 8 {
		t.Fatalf("%d redraws, want about 6", n)
	}
	for _, u := range rec.updates {
		if u.id != "gominitron_progress_42" {
			t.Fatalf("update id %q", u.id)
		}
	}
	last := rec.updates[len(rec.updates)-1].html
	if !strings.Contains(last, "100/100 (100%)") || !strings.Contains(last, `<progress value="100" max="100"`) {
		t.Fatalf("final redraw lacks the final state: %s", last)
	}
	p.Finish("done: 4 batches")
	p.Finish("again") // no effect
	final := rec.updates[len(rec.updates)-1]
	if final.id != "gominitron_progress_42" || !strings.Contains(final.html, "done: 4 batches") || strings.Contains(final.html, "ETA") {
		t.Fatalf("final block: %+v", final)
	}
	if len(rec.htmls) != 0 {
		t.Fatalf("Finish displayed a second block: %v", rec.htmls)
	}
	n := len(rec.updates)
	p.Update(5, 5, "late")
	if len(rec.updates) != n {
		t.Fatal("updated after Finish")
	}
}

func TestProgressTerminal(t *testing.T) {
	_, out, clock := fakeEnv(t, false)
	p := NewProgress("train")
	f := p.Func()
	for i := 1; i <= 10; i++ {
		*clock = clock.Add(time.Second)
		f(i, 10, "")
	}
	p.Finish("")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// First at 1s, then every 2s (3s, 5s, 7s, 9s), and the final at 10s; Finish adds nothing.
	want := []string{"train: 1/10 (10%), 1s, ETA 9s", "train: 3/10 (30%), 3s, ETA 7s", "train: 5/10 (50%), 5s, ETA 5s",
		"train: 7/10 (70%), 7s, ETA 3s", "train: 9/10 (90%), 9s, ETA 1s", "train: 10/10 (100%), 10s"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Fatalf("line printed twice: %q", l)
		}
		seen[l] = true
	}
}

func TestProgressWriter(t *testing.T) {
	rec, out, clock := fakeEnv(t, true)
	p := NewProgress("distill")
	p.Update(1, 4, "")
	*clock = clock.Add(time.Second)
	if _, err := p.Write([]byte("step 1 loss 3.2\rstep 2 loss 3.")); err != nil {
		t.Fatal(err)
	}
	last := rec.updates[len(rec.updates)-1].html
	if !strings.Contains(last, "step 1 loss 3.2") {
		t.Fatalf("writer line not shown: %s", last)
	}
	p.Write([]byte("1\n"))
	p.Finish("")
	if last := rec.updates[len(rec.updates)-1].html; !strings.Contains(last, "step 2 loss 3.1") || out.Len() != 0 {
		t.Fatalf("final %q, text %q", last, out.String())
	}
}

func TestScalePick(t *testing.T) {
	for _, c := range []struct{ env, want string }{{"", "cpu"}, {"smoke", "smoke"}, {" GPU ", "gpu"}, {"huge", "cpu"}} {
		t.Setenv(ScaleEnv, c.env)
		if got := Scale(); got != c.want {
			t.Fatalf("%q: Scale() = %q, want %q", c.env, got, c.want)
		}
		want := map[string]int{"smoke": 1, "cpu": 2, "gpu": 3}[c.want]
		if got := Pick(1, 2, 3); got != want {
			t.Fatalf("%q: Pick = %d, want %d", c.env, got, want)
		}
	}
}

func TestHeadless(t *testing.T) {
	fakeEnv(t, true)
	t.Setenv("GOMINITRON_HEADLESS", "1")
	if Interactive() {
		t.Fatal("headless notebook reported interactive")
	}
	t.Setenv("GOMINITRON_HEADLESS", "")
	if !Interactive() {
		t.Fatal("notebook with browser reported not interactive")
	}
}

func TestBanner(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	t.Setenv(ScaleEnv, "smoke")
	rec, out, _ := fakeEnv(t, false)
	b, err := Banner()
	if err != nil {
		t.Fatal(err)
	}
	if b == nil || !strings.Contains(out.String(), "backend go") || !strings.Contains(out.String(), "scale smoke") {
		t.Fatalf("banner %q", out.String())
	}
	if strings.Count(out.String(), "\n") != 1 || len(rec.htmls) != 0 {
		t.Fatalf("want exactly one line, got %q", out.String())
	}
	// A second call (backend already created) still says which backend.
	rec, out, _ = fakeEnv(t, true)
	MustBanner()
	if out.Len() != 0 || len(rec.htmls) != 1 || !strings.Contains(strings.ToLower(rec.htmls[0]), "backend go") {
		t.Fatalf("notebook banner: text %q html %v", out.String(), rec.htmls)
	}
}

func TestProgressAdapters(t *testing.T) {
	rec, _, clock := fakeEnv(t, true)
	p := NewProgress("pipeline")
	var stage func(string, int, int) = p.Stage // importance.Options.Progress
	stage("drop-one", 1, 4)
	*clock = clock.Add(time.Second)
	var trainCb func(train.Progress) = p.Train // train.RunOptions.Progress
	val := 3.5
	trainCb(train.Progress{Step: 10, TotalSteps: 10, Loss: 3.25, ValLoss: &val, LR: 1e-4, TokensPerSec: 1234})
	if !strings.Contains(rec.updates[0].html, "drop-one") || !strings.Contains(rec.updates[0].html, "1/4") {
		t.Fatalf("stage update: %s", rec.updates[0].html)
	}
	last := rec.updates[len(rec.updates)-1].html
	for _, want := range []string{"10/10 (100%)", "loss 3.2500", "val 3.5000", "1234 tok/s"} {
		if !strings.Contains(last, want) {
			t.Fatalf("train update lacks %q: %s", want, last)
		}
	}
}
