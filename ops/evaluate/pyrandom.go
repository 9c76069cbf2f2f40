package evaluate

// PyRandom is CPython's random.Random for what lm-evaluation-harness's
// few-shot sampler uses of it: seeding with a non-negative integer
// (random.Random(1234)), the Mersenne Twister MT19937 stream, getrandbits,
// _randbelow and sample. With it, the harness's seeded few-shot examples
// (ContextSampler: rnd.sample(docs, k+1), then the doc itself removed) are
// the same documents here, given the same document list.
type PyRandom struct {
	mt  [mtN]uint32
	idx int
}

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// NewPyRandom is random.Random(seed): the seed's 32-bit words, least
// significant first, fed to MT19937's init_by_array.
func NewPyRandom(seed uint64) *PyRandom {
	key := []uint32{uint32(seed)}
	if hi := uint32(seed >> 32); hi != 0 {
		key = append(key, hi)
	}
	r := &PyRandom{}
	r.initByArray(key)
	return r
}

func (r *PyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < mtN; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = mtN
}

func (r *PyRandom) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	for k := max(mtN, len(key)); k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := mtN - 1; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

// Uint32 is MT19937's genrand_uint32.
func (r *PyRandom) Uint32() uint32 {
	if r.idx >= mtN {
		for k := range mtN {
			y := (r.mt[k] & mtUpperMask) | (r.mt[(k+1)%mtN] & mtLowerMask)
			v := r.mt[(k+mtM)%mtN] ^ (y >> 1)
			if y&1 != 0 {
				v ^= mtMatrixA
			}
			r.mt[k] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// GetRandBits is getrandbits(k) for 0 ≤ k ≤ 32.
func (r *PyRandom) GetRandBits(k int) uint32 {
	if k <= 0 {
		return 0
	}
	return r.Uint32() >> (32 - k)
}

// RandBelow is _randbelow(n) for 0 < n < 2^32: getrandbits(n.bit_length())
// drawn until it is below n.
func (r *PyRandom) RandBelow(n int) int {
	k := 0
	for v := n; v > 0; v >>= 1 {
		k++
	}
	x := int(r.GetRandBits(k))
	for x >= n {
		x = int(r.GetRandBits(k))
	}
	return x
}

// Sample is random.sample(range(n), k): k distinct indices of [0, n) in
// selection order, by CPython's two strategies (a shrinking pool when n is
// small for k, rejection of repeats otherwise), which consume the stream
// differently.
func (r *PyRandom) Sample(n, k int) []int {
	if k < 0 || k > n {
		panic("evaluate: PyRandom.Sample: sample larger than population or negative")
	}
	out := make([]int, k)
	setSize := 21
	if k > 5 {
		// 4 ** ceil(log(3k, 4)), computed on integers.
		p := 1
		for p < 3*k {
			p *= 4
		}
		setSize += p
	}
	if n <= setSize {
		pool := make([]int, n)
		for i := range pool {
			pool[i] = i
		}
		for i := range k {
			j := r.RandBelow(n - i)
			out[i] = pool[j]
			pool[j] = pool[n-i-1]
		}
		return out
	}
	selected := make(map[int]bool, k)
	for i := range k {
		j := r.RandBelow(n)
		for selected[j] {
			j = r.RandBelow(n)
		}
		selected[j] = true
		out[i] = j
	}
	return out
}
