package llm

import "cmp"

// Argmax returns the index of the largest value of xs, the first one on ties
// (as numpy.argmax and torch.argmax); 0 for an empty slice.
func Argmax[T cmp.Ordered](xs []T) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// Argmin returns the index of the smallest value of xs, the first one on
// ties (as numpy.argmin); 0 for an empty slice.
func Argmin[T cmp.Ordered](xs []T) int {
	best := 0
	for i, x := range xs {
		if x < xs[best] {
			best = i
		}
	}
	return best
}
