//go:build unix

package main

import "syscall"

// processCPUSeconds is the user + system CPU time of this process so far
// (every thread), or 0 where it cannot be read.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
