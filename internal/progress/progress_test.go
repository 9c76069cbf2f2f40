package progress

import (
	"strings"
	"testing"
	"time"
)

func TestETA(t *testing.T) {
	for _, c := range []struct {
		elapsed     time.Duration
		done, total int64
		want        time.Duration
		ok          bool
	}{
		{10 * time.Second, 1, 4, 30 * time.Second, true}, // 10 s per unit, 3 left
		{6 * time.Second, 3, 4, 2 * time.Second, true},
		{time.Second, 0, 4, 0, false}, // no rate yet
		{time.Second, 4, 4, 0, false}, // finished
		{time.Second, 1, 0, 0, false}, // unknown total
	} {
		got, ok := ETA(c.elapsed, c.done, c.total)
		if got != c.want || ok != c.ok {
			t.Errorf("ETA(%v, %d, %d) = %v, %v; want %v, %v", c.elapsed, c.done, c.total, got, ok, c.want, c.ok)
		}
	}
}

// TestStages: each stage gets its own rate; lines end when a stage ends.
func TestStages(t *testing.T) {
	var b strings.Builder
	clock := time.Unix(0, 0)
	s := &Stages{W: &b, Prefix: "cmd", Now: func() time.Time { return clock }}
	s.Update("calibration", 0, 2, "batches")
	clock = clock.Add(4 * time.Second)
	s.Update("calibration", 1, 2, "batches") // 4 s per batch: 4 s left
	clock = clock.Add(4 * time.Second)
	s.Update("calibration", 2, 2, "batches")
	s.Update("drop-one", 0, 10, "layers")
	clock = clock.Add(time.Second)
	s.Update("drop-one", 1, 10, "layers") // 1 s per layer: 9 s left, not 4 s × 9
	want := "\rcmd: calibration 0/2 batches (0s, ETA ?)" +
		"\rcmd: calibration 1/2 batches (4s, ETA 4s)" +
		"\rcmd: calibration 2/2 batches (8s, ETA 0s)\n" +
		"\rcmd: drop-one 0/10 layers (8s, ETA ?)" +
		"\rcmd: drop-one 1/10 layers (9s, ETA 9s)"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
