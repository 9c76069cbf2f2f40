package simdf32

import (
	"runtime"
	"sync"
	"testing"
)

// TestParallel: every item of [0, n) is covered exactly once, by whole items, for sizes below,
// at and above the split threshold; large inputs are split into several ranges when there are
// several processors.
func TestParallel(t *testing.T) {
	for _, tc := range []struct{ n, itemLen int }{{0, 1}, {1, 1}, {1000, 1}, {ParallelMinElements, 1}, {4*ParallelMinElements + 3, 1}, {1001, 128}, {7, ParallelMinElements}} {
		var mu sync.Mutex
		seen := make([]int, tc.n)
		calls := 0
		Parallel(tc.n, tc.itemLen, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d itemLen=%d: item %d covered %d times", tc.n, tc.itemLen, i, c)
			}
		}
		if big := tc.n*tc.itemLen >= 2*ParallelMinElements && tc.n >= 2; big && runtime.GOMAXPROCS(0) > 1 && calls < 2 {
			t.Errorf("n=%d itemLen=%d: %d range(s), want a split", tc.n, tc.itemLen, calls)
		}
	}
}
