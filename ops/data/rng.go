package data

// rng is SplitMix64: tiny, fast, and its sequence is fixed by this code (not
// by a library version), so shuffles are reproducible forever.
type rng struct{ state uint64 }

func newRNG(seed uint64, stream uint64) *rng {
	r := &rng{state: seed ^ (stream * 0x9E3779B97F4A7C15)}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a uniform integer in [0, n) (rejection sampling, n > 0).
func (r *rng) intn(n uint64) uint64 {
	limit := ^uint64(0) - (^uint64(0) % n)
	for {
		if v := r.next(); v < limit {
			return v % n
		}
	}
}

// perm returns a seeded permutation of [0, n) (Fisher–Yates).
func (r *rng) perm(n int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(uint64(i + 1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
