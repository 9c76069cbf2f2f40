package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/interactive"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"

	"github.com/gominitron/gominitron/internal/fixtures"
)

const sliderFixture = "../testdata/hf/dev-llama-gqa"

func fixtureExplorer(t *testing.T) *interactive.Explorer {
	t.Helper()
	t.Setenv("GOMLX_BACKEND", "go")
	m, err := llm.LoadModel(sliderFixture, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	ids := fixtures.Rows(fixtures.InputIDsIn(t, sliderFixture))[:2]
	e, err := interactive.New(fixtures.Backend(t), m, fixtures.ImportanceIn(t, sliderFixture), ids, interactive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// fakeWidgets hands out channels the test drives; block makes the first
// slider never answer (no browser).
type fakeWidgets struct {
	mu      sync.Mutex
	block   bool
	sliders []chan int
	choices []chan int
	buttons map[string]chan int
	parents []string
}

func (f *fakeWidgets) slider(parent string, min, max, value int) (<-chan int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.block {
		f.mu.Unlock()
		select {} // a front-end that never answers
	}
	c := make(chan int, 8)
	f.sliders = append(f.sliders, c)
	f.parents = append(f.parents, parent)
	return c, nil
}

func (f *fakeWidgets) choice(parent string, options []string) (<-chan int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan int, 8)
	f.choices = append(f.choices, c)
	return c, nil
}

func (f *fakeWidgets) button(parent, label string) (<-chan int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.buttons == nil {
		f.buttons = map[string]chan int{}
	}
	c := make(chan int, 8)
	f.buttons[label] = c
	return c, nil
}

func TestPruningSlidersHeadless(t *testing.T) {
	e := fixtureExplorer(t)
	rec, _, _ := fakeEnv(t, true)
	t.Setenv("GOMINITRON_HEADLESS", "1")
	if err := PruningSliders(e, SliderOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(rec.htmls) != 1 || len(rec.updates) != 0 {
		t.Fatalf("headless: %d html outputs, %d updates; want one static table", len(rec.htmls), len(rec.updates))
	}
	table := rec.htmls[0]
	for _, want := range []string{"<table", "full model", "FFN ½", "L2 h64 f88 q4/kv2", "KL vs full"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if n := strings.Count(table, "<tr>"); n != 1+len(interactive.Presets(e.Config())) {
		t.Errorf("%d rows", n)
	}
}

// lastUpdate waits until the readout shows want.
func waitReadout(t *testing.T, rec *recorder, mu *sync.Mutex, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		var last string
		if n := len(rec.updates); n > 0 {
			last = rec.updates[n-1].html
		}
		mu.Unlock()
		if strings.Contains(last, want) {
			return last
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("readout never showed %q; last updates: %v", want, rec.updates[max(0, len(rec.updates)-2):])
	return ""
}

// lockedRecorder serializes the recorder (the slider loop runs in a goroutine).
type lockedRecorder struct {
	*recorder
	mu *sync.Mutex
}

func (l lockedRecorder) html(h string) { l.mu.Lock(); defer l.mu.Unlock(); l.recorder.html(h) }
func (l lockedRecorder) updateHTML(id, h string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recorder.updateHTML(id, h)
}

func TestPruningSlidersInteractive(t *testing.T) {
	e := fixtureExplorer(t)
	rec, _, _ := fakeEnv(t, true)
	var mu sync.Mutex
	ui = lockedRecorder{rec, &mu}
	t.Setenv("GOMINITRON_HEADLESS", "")
	out := t.TempDir()
	wf := &fakeWidgets{}
	done := make(chan error, 1)
	go func() {
		done <- runSliders(e, SliderOptions{OutDir: out, Source: sliderFixture, Idle: time.Minute, FrontEndTimeout: 5 * time.Second}, wf)
	}()
	full := waitReadout(t, rec, &mu, "ready: move a slider")
	if !strings.Contains(full, `id="`+ReadoutParamsID+`">`+groupDigits(e.Full().Params)+"<") {
		t.Fatalf("full readout: %s", full)
	}
	if len(wf.sliders) != 4 || len(wf.choices) != 1 || len(wf.buttons) != 2 {
		t.Fatalf("widgets: %d sliders, %d choices, %d buttons", len(wf.sliders), len(wf.choices), len(wf.buttons))
	}
	wf.sliders[1] <- 88 // FFN
	want, err := e.Evaluate(prune.Plan{FFN: 88})
	if err != nil {
		t.Fatal(err)
	}
	moved := waitReadout(t, rec, &mu, groupDigits(want.Params))
	if strings.Contains(moved, ">"+groupDigits(e.Full().Params)+"<") || !strings.Contains(moved, ">"+formatLoss(want.Loss)+"<") {
		t.Fatalf("after the FFN slider: %s (want loss %s)", moved, formatLoss(want.Loss))
	}
	wf.sliders[3] <- 1 // drop one layer
	waitReadout(t, rec, &mu, "dropped layers [")
	wf.buttons["Export pruned model"] <- 1
	exported := waitReadout(t, rec, &mu, "exported to ")
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || !strings.Contains(exported, entries[0].Name()) {
		t.Fatalf("export folder: %v, readout %s", entries, exported)
	}
	if _, err := os.Stat(filepath.Join(out, entries[0].Name(), "config.json")); err != nil {
		t.Fatal(err)
	}
	wf.buttons["Stop"] <- 1
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not end the loop")
	}
	if e.Compilations() != 1 {
		t.Fatalf("%d compilations", e.Compilations())
	}
}

func formatLoss(x float64) string { return fmt.Sprintf("%.4f", x) }

func TestPruningSlidersNoBrowser(t *testing.T) {
	e := fixtureExplorer(t)
	rec, _, _ := fakeEnv(t, true)
	t.Setenv("GOMINITRON_HEADLESS", "")
	start := time.Now()
	err := runSliders(e, SliderOptions{FrontEndTimeout: 100 * time.Millisecond, Presets: interactive.Presets(e.Config())[:2]}, &fakeWidgets{block: true})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
	if n := len(rec.htmls); n != 2 || !strings.Contains(rec.htmls[1], "full model") {
		t.Fatalf("want the panel and a static table, got %d html outputs", n)
	}
}

func TestGroupDigitsAndBytes(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := groupDigits(in); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{512: "512 B", 2048: "2.0 KiB", 3 << 20: "3.00 MiB", 5 << 30: "5.00 GiB"} {
		if got := bytesString(in); got != want {
			t.Errorf("bytesString(%d) = %q, want %q", in, got, want)
		}
	}
}
