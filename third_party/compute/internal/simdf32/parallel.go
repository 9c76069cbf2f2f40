package simdf32

import (
	"runtime"
	"sync"
)

// ParallelMinElements is the fewest elements a worker of Parallel gets: below it, starting a
// goroutine (~1 µs) costs more than it saves (these loops run at 0.1–0.5 ns per element).
const ParallelMinElements = 1 << 15

// Parallel calls fn over [0, n) split into up to GOMAXPROCS contiguous ranges of whole items of
// itemLen elements each (at least ParallelMinElements elements per range), concurrently; it
// returns when all are done. The graph executor runs one op at a time on this backend, so an
// elementwise op otherwise keeps one core busy and leaves the others idle.
func Parallel(n, itemLen int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n*itemLen/ParallelMinElements)
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := chunk; lo < n; lo += chunk {
		wg.Go(func() { fn(lo, min(lo+chunk, n)) })
	}
	fn(0, chunk)
	wg.Wait()
}
