package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/ops/interactive"
	"github.com/gominitron/gominitron/reproduce"
)

// exited is what the fake exit panics with, to stop the "cell" as os.Exit would.
type exited int

// stopCell runs cell with a fake exit and returns the exit status (-1: the
// cell ran to its end) and what it panicked with otherwise.
func stopCell(t *testing.T, cell func()) (status int, panicked any) {
	t.Helper()
	old := exit
	exit = func(code int) { panic(exited(code)) }
	t.Cleanup(func() { exit = old })
	status = -1
	func() {
		defer func() {
			if r := recover(); r != nil {
				if code, ok := r.(exited); ok {
					status = int(code)
				} else {
					panicked = r
				}
			}
		}()
		cell()
	}()
	return status, panicked
}

func TestCheckAndMust(t *testing.T) {
	bad := errors.New(`open models/x/config.json: no such file <or> directory`)
	cases := []struct {
		name       string
		notebook   bool
		cell       func()
		wantStatus int  // exit status; -1 when the cell runs to its end
		wantPanic  bool // outside a notebook errors panic
		wantHTML   bool
	}{
		{"nil error", true, func() { Check(nil) }, -1, false, false},
		{"Must value", true, func() {
			if v := Must(42, nil); v != 42 {
				panic("Must changed the value")
			}
		}, -1, false, false},
		{"notebook error", true, func() { Check(bad) }, 1, false, true},
		{"notebook Must error", true, func() { Must(0, bad) }, 1, false, true},
		{"notebook Plot error", true, func() { Plot(nil, bad) }, 1, false, true},
		{"terminal error panics", false, func() { Check(bad) }, -1, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, _, _ := fakeEnv(t, c.notebook)
			status, panicked := stopCell(t, c.cell)
			if status != c.wantStatus {
				t.Errorf("exit status %d, want %d", status, c.wantStatus)
			}
			if (panicked != nil) != c.wantPanic {
				t.Errorf("panicked with %v, want panic %v", panicked, c.wantPanic)
			}
			if c.wantPanic && panicked != bad {
				t.Errorf("panicked with %v, want the error itself", panicked)
			}
			if got := len(rec.htmls) > 0; got != c.wantHTML {
				t.Fatalf("html shown %v, want %v: %q", got, c.wantHTML, rec.htmls)
			}
			if c.wantHTML {
				h := rec.htmls[0]
				if !strings.Contains(h, "no such file &lt;or&gt; directory") || strings.Contains(h, "goroutine") {
					t.Errorf("error box %q: want the escaped message and no trace", h)
				}
			}
		})
	}
}

func TestFreshOut(t *testing.T) {
	fakeEnv(t, true)
	root := t.TempDir()
	d := &interactive.Demo{Root: root}
	// A fresh checkout: no out/ at all.
	dir := FreshOut(d, "02-depth-pruned")
	if want := filepath.Join(root, "out", "notebooks", "02-depth-pruned"); dir != want {
		t.Fatalf("FreshOut = %q, want %q", dir, want)
	}
	if st, err := os.Stat(filepath.Dir(dir)); err != nil || !st.IsDir() {
		t.Fatalf("parent not created: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the folder itself should not exist yet: %v", err)
	}
	// A second run: what the first left is removed.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	FreshOut(d, "02-depth-pruned")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("earlier output left in place: %v", err)
	}
}

func TestShowReport(t *testing.T) {
	r := &reproduce.Report{Headers: []string{"objective", "LM loss"}, Rows: [][]string{{"KD", "4.9000"}, {"CE", "5.0157"}},
		Reproduced: true, Verdict: "KD 4.9000 vs CE 5.0157"}
	_, out, _ := fakeEnv(t, false)
	if got := ShowReport(r, nil); got != r {
		t.Fatal("ShowReport did not return the report")
	}
	for _, want := range []string{"objective", "5.0157", "reproduced=true: KD 4.9000 vs CE 5.0157"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	rec, _, _ := fakeEnv(t, true)
	if status, _ := stopCell(t, func() { ShowReport(nil, errors.New("reproduce: unknown experiment \"x\"")) }); status != 1 {
		t.Fatalf("a failed run: exit status %d, want 1", status)
	}
	if len(rec.htmls) != 1 || !strings.Contains(rec.htmls[0], "unknown experiment") {
		t.Fatalf("error box %q", rec.htmls)
	}
}

func TestInCheckout(t *testing.T) {
	d := &interactive.Demo{Root: "/work/checkout"}
	for _, c := range []struct{ path, want string }{
		{"/work/checkout/models/demo-teacher", "models/demo-teacher"},
		{"/work/checkout/out/notebooks-data/x.json", "out/notebooks-data/x.json"},
		{"/elsewhere/model", "/elsewhere/model"},
		{"/work/checkout-2/model", "/work/checkout-2/model"},
	} {
		if got := inCheckout(d, c.path); got != c.want {
			t.Errorf("inCheckout(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}
