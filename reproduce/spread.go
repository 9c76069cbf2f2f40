package reproduce

// LowerBeyondSpread reports whether the values a are lower than the values
// b beyond their seed spread: mean(a) + std(a) < mean(b) − std(b) (sample
// standard deviations; with one value each, a plain comparison).
func LowerBeyondSpread(a, b []float64) bool {
	ma, sa := meanStd(a)
	mb, sb := meanStd(b)
	return ma+sa < mb-sb
}
