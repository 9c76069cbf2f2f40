package llm

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
)

// Memory accounting: the one place that estimates how many bytes weights,
// KV caches and activations take (inspect, bench, generate, eval,
// importance, train and distill all use these) and that refuses a job that
// cannot fit before anything is allocated (CheckFits).
//
// All byte counts saturate at math.MaxInt64 instead of overflowing, so an
// absurd shape always reads as "too big", never as a small or negative size.

// satMul is a·b for non-negative a, b, saturating at math.MaxInt64.
func satMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// satAdd is a+b for non-negative a, b, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// SaturatingProduct multiplies non-negative sizes (elements, bytes),
// saturating at math.MaxInt64 instead of overflowing: size estimates built
// from user input use it so an absurd size reads as "too big".
func SaturatingProduct(xs ...int64) int64 { return satMulN(xs...) }

// SaturatingSum adds non-negative sizes, saturating at math.MaxInt64.
func SaturatingSum(xs ...int64) int64 {
	s := int64(0)
	for _, x := range xs {
		s = satAdd(s, x)
	}
	return s
}

// satMulN multiplies its arguments with satMul.
func satMulN(xs ...int64) int64 {
	p := int64(1)
	for _, x := range xs {
		p = satMul(p, x)
	}
	return p
}

// KVCacheBytes is the KV cache of batchSize sequences of tokens positions
// each: KVCacheBytesPerToken × batchSize × tokens.
func (c *Config) KVCacheBytes(dtype dtypes.DType, batchSize, tokens int) int64 {
	return satMulN(c.KVCacheBytesPerToken(dtype), int64(batchSize), int64(tokens))
}

// ForwardActivationBytes estimates the peak activation memory of one forward
// pass over [batchSize, seqLen] tokens computed in dtype: the float32 logits
// [batchSize, seqLen, vocab] plus the working set of one decoder layer
// (layerActivationBytes). It is an estimate (the backend may fuse or keep
// more), good to the factor that decides "fits" or "needs 40× the RAM".
func (c *Config) ForwardActivationBytes(dtype dtypes.DType, batchSize, seqLen int) int64 {
	return satAdd(c.logitsBytes(batchSize, seqLen), c.layerActivationBytes(dtype, batchSize, seqLen))
}

// ChunkedForwardActivationBytes is ForwardActivationBytes for a pass whose
// lm_head is applied a chunk of positions at a time (NextTokenLossSumChunked,
// TargetLogProbsChunked): one decoder layer's working set plus one chunk's
// LogitsChunkCopies float32 logits (at most LogitsChunkBytes).
func (c *Config) ChunkedForwardActivationBytes(dtype dtypes.DType, batchSize, seqLen int) int64 {
	logits := satMul(c.logitsBytes(batchSize, min(seqLen, LogitsChunkPositions(batchSize, c.VocabSize))), LogitsChunkCopies)
	return satAdd(logits, c.layerActivationBytes(dtype, batchSize, seqLen))
}

// logitsBytes is the float32 logits [batchSize, seqLen, vocab].
func (c *Config) logitsBytes(batchSize, seqLen int) int64 {
	return satMulN(int64(batchSize), int64(seqLen), int64(c.VocabSize), 4)
}

// layerActivationBytes is one decoder layer's activations over
// [batchSize, seqLen] tokens: residual, norm and attention outputs
// [batchSize, seqLen, hidden] ×4, the query/key/value projections, the
// MLP's gate/up/product [batchSize, seqLen, ffn] ×3 (all in dtype) and the
// float32 attention scores and probabilities [batchSize, numHeads, seqLen, seqLen] ×2.
func (c *Config) layerActivationBytes(dtype dtypes.DType, batchSize, seqLen int) int64 {
	b, s, size := int64(batchSize), int64(seqLen), int64(dtype.Size())
	perToken := satAdd(satAdd(4*int64(c.Hidden), int64(c.NumHeads*c.HeadDim)+2*int64(c.NumKVHeads*c.HeadDim)), 3*int64(c.FFN))
	return satAdd(satMulN(b, s, perToken, size), satMulN(b, int64(c.NumHeads), s, s, 2*4))
}

// InferenceBytes estimates the memory of serving batchSize sequences of
// inputLen prompt tokens plus outputLen generated ones: the weights, the KV
// cache for inputLen+outputLen positions and the prompt pass's activations.
func (c *Config) InferenceBytes(dtype dtypes.DType, batchSize, inputLen, outputLen int) int64 {
	kv := c.KVCacheBytes(dtype, batchSize, inputLen+outputLen)
	return satAdd(c.WeightBytes(dtype), satAdd(kv, c.ForwardActivationBytes(dtype, batchSize, inputLen)))
}

// ForwardPeakWeightFactor is the stated bound on weight memory of
// forward-only work (forward, generate, eval, importance): a model loaded
// with LoadModelOnDevice peaks at this many times its weight bytes in the
// stored dtype (loading holds one tensor beyond the model; the graph
// converts one layer's weights and one lm_head chunk at a time to the
// compute dtype), plus activations and KV cache (ForwardPeakBytes).
const ForwardPeakWeightFactor = 1.3

// ForwardPeakBytes is the memory bound of forward-only work over
// [batchSize, seqLen] tokens computed in computeDType, with cacheTokens KV
// cache positions per sequence (0 without generation), for weights stored in
// weightDType: ForwardPeakWeightFactor × the weight bytes, plus
// ForwardActivationBytes (with a second copy of the logits when the weights
// are converted: the head's per-chunk products beside their concatenation)
// and KVCacheBytes. It leaves out the process's own
// baseline (runtime, binary, compiled graphs: tens of MB).
func (c *Config) ForwardPeakBytes(weightDType, computeDType dtypes.DType, batchSize, seqLen, cacheTokens int) int64 {
	weights := int64(math.Ceil(ForwardPeakWeightFactor * float64(c.WeightBytes(weightDType))))
	activations := c.ForwardActivationBytes(computeDType, batchSize, seqLen)
	if weightDType != computeDType { // the head converted a chunk of rows at a time: its products beside their concatenation
		activations = satAdd(activations, c.logitsBytes(batchSize, seqLen))
	}
	return SaturatingSum(weights, activations, c.KVCacheBytes(computeDType, batchSize, cacheTokens))
}

// TrainingBytes estimates the memory of training (or distilling into) this
// model with batches of [batchSize, seqLen] tokens: weights, gradients and
// two Adam moments (4 × the float32 weights) plus the activations every layer
// keeps for the backward pass (numLayers × layerActivationBytes) and the
// logits with their gradient.
func (c *Config) TrainingBytes(dtype dtypes.DType, batchSize, seqLen int) int64 {
	state := satMul(c.WeightBytes(dtypes.Float32), 4)
	act := satMul(c.layerActivationBytes(dtype, batchSize, seqLen), int64(c.NumLayers))
	return SaturatingSum(state, act, satMul(c.logitsBytes(batchSize, seqLen), 2))
}

// memoryHeadroom is the fraction of the available memory a job may plan to
// use: the estimates leave out the Go runtime, compiled graphs and
// fragmentation.
const memoryHeadroom = 0.9

// AvailableMemory is how many bytes this process can still allocate: the
// smallest of MemAvailable in /proc/meminfo, the cgroup v2 (memory.max −
// memory.current) or v1 limit when one is set, and the Go soft memory limit
// (debug.SetMemoryLimit / GOMEMLIMIT) minus what the Go heap holds. source
// names the binding limit; ok is false when none could be read (non-Linux).
func AvailableMemory() (bytes int64, source string, ok bool) {
	bytes = math.MaxInt64
	take := func(v int64, name string) {
		if v >= 0 && v < bytes {
			bytes, source, ok = v, name, true
		}
	}
	if v, found := memInfoAvailable("/proc/meminfo"); found {
		take(v, "MemAvailable in /proc/meminfo")
	}
	if v, found := cgroupAvailable("/sys/fs/cgroup"); found {
		take(v, "the cgroup memory limit")
	}
	if limit := debug.SetMemoryLimit(-1); limit < math.MaxInt64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		take(max(limit-int64(ms.Sys-ms.HeapReleased), 0), "the Go memory limit (GOMEMLIMIT)")
	}
	return bytes, source, ok
}

// memInfoAvailable reads MemAvailable (kB) from a /proc/meminfo file.
func memInfoAvailable(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, false
			}
			return satMul(kb, 1024), true
		}
	}
	return 0, false
}

// cgroupAvailable is the room left under this process's cgroup memory limit
// below root (normally /sys/fs/cgroup): v2 memory.max − memory.current, or
// v1 memory/memory.limit_in_bytes − memory.usage_in_bytes; false when no
// limit is set or readable.
func cgroupAvailable(root string) (int64, bool) {
	for _, p := range [][2]string{
		{"memory.max", "memory.current"},
		{"memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"},
	} {
		limit, okL := readIntFile(filepath.Join(root, p[0]))
		used, okU := readIntFile(filepath.Join(root, p[1]))
		if okL && okU && limit < 1<<60 { // v1 reports "no limit" as a huge number
			return max(limit-used, 0), true
		}
	}
	return 0, false
}

func readIntFile(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64) // "max" (no limit) fails here
	return v, err == nil
}

// ErrDoesNotFit is wrapped by CheckFits' refusals.
var ErrDoesNotFit = fmt.Errorf("not enough memory")

// CheckFits refuses, before anything is allocated, a job estimated to need
// need bytes when that is more than 90% of AvailableMemory: the error says
// "WHAT needs ~X GiB, about Y GiB available (SOURCE)". It passes when the
// available memory cannot be read.
func CheckFits(what string, need int64) error {
	avail, source, ok := AvailableMemory()
	if !ok {
		return nil
	}
	return checkFits(what, need, avail, source)
}

func checkFits(what string, need, avail int64, source string) error {
	if float64(need) <= memoryHeadroom*float64(avail) {
		return nil
	}
	return fmt.Errorf("%s needs ~%s, about %s available (%s): %w", what, FormatBytes(need), FormatBytes(avail), source, ErrDoesNotFit)
}

// FormatBytes prints a byte count in GiB (or MiB below 1 GiB), e.g. "3.2 GiB";
// a saturated count prints as "more than 8 EiB".
func FormatBytes(n int64) string {
	const gib = 1 << 30
	switch {
	case n == math.MaxInt64:
		return "more than 8 EiB"
	case n >= gib:
		return strconv.FormatFloat(float64(n)/gib, 'f', 1, 64) + " GiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// DistillMemory is the planned memory of one distillation step (bytes),
// before anything is allocated.
type DistillMemory struct {
	TeacherWeights int64 `json:"teacher_weights"` // frozen, in its stored dtype
	StudentWeights int64 `json:"student_weights"` // float32 master weights
	Gradients      int64 `json:"gradients"`       // float32, one per student weight
	OptimizerState int64 `json:"optimizer_state"` // Adam: two float32 moments per student weight
	Activations    int64 `json:"activations"`     // every student layer's (kept for backward) + one teacher layer's working set
	Logits         int64 `json:"logits"`          // float32 teacher and student logits and the student's logit gradient, for one chunk of positions
	Total          int64 `json:"total"`
}

// DistillBytes plans the memory of distilling teacher into student on
// [batchSize, seqLen] tokens computed in computeDType, the teacher's weights
// held in teacherDType and the logit terms computed chunkPositions positions
// at a time (≤ 0: the whole sequence). Activations use the same per-layer
// model as TrainingBytes (attention scores materialized: an upper bound
// where fused attention runs).
func DistillBytes(teacher, student *Config, teacherDType, computeDType dtypes.DType, batchSize, seqLen, chunkPositions int) DistillMemory {
	if chunkPositions <= 0 || chunkPositions > seqLen {
		chunkPositions = seqLen
	}
	f32 := student.WeightBytes(dtypes.Float32)
	m := DistillMemory{
		TeacherWeights: teacher.WeightBytes(teacherDType),
		StudentWeights: f32,
		Gradients:      f32,
		OptimizerState: satMul(2, f32),
		Activations: satAdd(satMul(student.layerActivationBytes(computeDType, batchSize, seqLen), int64(student.NumLayers)),
			teacher.layerActivationBytes(computeDType, batchSize, seqLen)),
		Logits: satMulN(3, int64(batchSize), int64(chunkPositions), int64(max(teacher.VocabSize, student.VocabSize)), 4),
	}
	m.Total = SaturatingSum(m.TeacherWeights, m.StudentWeights, m.Gradients, m.OptimizerState, m.Activations, m.Logits)
	return m
}

// LargestDistillBatch is the largest batch size whose DistillBytes total at
// seqLen fits in budget bytes (0 when not even one sequence fits).
func LargestDistillBatch(teacher, student *Config, teacherDType, computeDType dtypes.DType, seqLen, chunkPositions int, budget int64) int {
	fits := func(b int) bool {
		return DistillBytes(teacher, student, teacherDType, computeDType, b, seqLen, chunkPositions).Total <= budget
	}
	if !fits(1) {
		return 0
	}
	lo, hi := 1, 2 // fits(lo), grow hi until it does not
	for fits(hi) && hi < 1<<20 {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
