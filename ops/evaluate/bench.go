package evaluate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// BenchOptions configures Bench: one point of the ISL/OSL grid.
type BenchOptions struct {
	Shape     string       // label for the result, e.g. "llama-3.1-8b"
	Batch     int          // concurrent requests (rows)
	InputLen  int          // prompt tokens per request (ISL)
	OutputLen int          // generated tokens per request (OSL), ≥ 1
	Repeats   int          // timed repetitions after one warm-up (default 3); the median is reported
	DType     dtypes.DType // compute dtype (default: the weights' dtype)
	Seed      uint64       // prompt token seed
}

// BenchResult is a throughput measurement: the plain results.Bench plus
// the raw timings and where the memory number comes from.
type BenchResult struct {
	results.Bench
	PrefillSeconds float64 `json:"prefill_seconds"` // median time of prefill + first token
	TotalSeconds   float64 `json:"total_seconds"`   // median time of the whole generation
	// MemorySource says what PeakMemoryBytes measures: "nvidia-smi" (the
	// process's GPU memory, which includes the XLA allocator's pool) or
	// "host-rss" (peak resident set of this process, VmHWM).
	MemorySource         string `json:"memory_source"`
	EstimatedDeviceBytes int64  `json:"estimated_device_bytes"` // weights + KV cache + last logits, analytic
	Params               int64  `json:"params"`
	Note                 string `json:"note,omitempty"` // e.g. why decode_tokens_per_sec is missing
}

// Bench measures serving throughput with KV-cache greedy generation
// (llm.Runner.Generate) on Batch random prompts of InputLen tokens:
//
//	prefill tokens/s = Batch·InputLen / t(generate 1 token)
//	decode tokens/s  = Batch·(OutputLen-1) / (t(generate OutputLen) - t(generate 1))
//	requests/s       = Batch / t(generate OutputLen)
//
// Compilation is excluded (one untimed warm-up of each); each timing is
// the median of Repeats runs.
func Bench(r *llm.Runner, opts BenchOptions) (*BenchResult, error) {
	cfg := r.Config()
	if opts.Batch <= 0 || opts.InputLen <= 0 || opts.OutputLen <= 0 {
		return nil, fmt.Errorf("evaluate: bench needs positive batch, input-len and output-len, got %d, %d, %d", opts.Batch, opts.InputLen, opts.OutputLen)
	}
	if opts.Repeats < 0 {
		return nil, fmt.Errorf("evaluate: bench repeats must be ≥ 1 (0 = default 3), got %d", opts.Repeats)
	}
	if opts.Repeats == 0 {
		opts.Repeats = 3
	}
	if err := cfg.CheckSequenceLength("evaluate: bench input-len + output-len", opts.InputLen+opts.OutputLen); err != nil {
		return nil, err
	}
	dtype := opts.DType
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.Float32
	}
	promptBytes := llm.SaturatingProduct(int64(opts.Batch), int64(opts.InputLen)*4+24)
	need := llm.SaturatingSum(cfg.InferenceBytes(dtype, opts.Batch, opts.InputLen, opts.OutputLen), promptBytes)
	if err := llm.CheckFits(fmt.Sprintf("evaluate: bench batch %d × (%d + %d) tokens", opts.Batch, opts.InputLen, opts.OutputLen), need); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 1))
	prompts := make([][]int32, opts.Batch)
	for b := range prompts {
		prompts[b] = make([]int32, opts.InputLen)
		for i := range prompts[b] {
			prompts[b][i] = int32(rng.IntN(cfg.VocabSize))
		}
	}
	mem := startMemoryMonitor()
	run := func(newTokens int) (time.Duration, error) {
		start := time.Now()
		out, err := r.Generate(prompts, llm.GenerateOptions{MaxNewTokens: newTokens, SkipFiniteCheck: true})
		if err != nil {
			return 0, err
		}
		if len(out[0]) != opts.InputLen+newTokens {
			return 0, fmt.Errorf("evaluate: bench: generated %d tokens, want %d", len(out[0])-opts.InputLen, newTokens)
		}
		return time.Since(start), nil
	}
	// Warm-up (compiles the prefill graphs for both cache lengths and the decode step).
	if _, err := run(1); err != nil {
		return nil, fmt.Errorf("evaluate: bench warm-up: %w", err)
	}
	if _, err := run(opts.OutputLen); err != nil {
		return nil, fmt.Errorf("evaluate: bench warm-up: %w", err)
	}
	var prefill, total []time.Duration
	for range opts.Repeats {
		p, err := run(1)
		if err != nil {
			return nil, err
		}
		t, err := run(opts.OutputLen)
		if err != nil {
			return nil, err
		}
		prefill, total = append(prefill, p), append(total, t)
	}
	tp, tt := median(prefill).Seconds(), median(total).Seconds()
	peak, source := mem.stop()
	res := &BenchResult{
		Bench: results.Bench{
			Shape: opts.Shape, Batch: opts.Batch, InputLen: opts.InputLen, OutputLen: opts.OutputLen,
			PrefillTokensPerSec: float64(opts.Batch*opts.InputLen) / tp,
			RequestsPerSec:      float64(opts.Batch) / tt,
			PeakMemoryBytes:     peak,
			DType:               dtype.String(),
		},
		PrefillSeconds: tp, TotalSeconds: tt, MemorySource: source,
	}
	switch {
	case opts.OutputLen == 1:
		res.Note = "output-len 1: no decode steps"
	case tt > tp:
		res.DecodeTokensPerSec = float64(opts.Batch*(opts.OutputLen-1)) / (tt - tp)
	default:
		res.Note = "decode time below timing noise (generating output-len tokens was not slower than 1): decode_tokens_per_sec omitted; raise --repeats or --output-len"
	}
	res.Params = cfg.Params().Total
	res.EstimatedDeviceBytes = llm.SaturatingSum(cfg.WeightBytes(dtype), cfg.KVCacheBytes(dtype, opts.Batch, opts.InputLen+opts.OutputLen),
		llm.SaturatingProduct(int64(opts.Batch), int64(cfg.VocabSize), 4))
	return res, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// memoryMonitor samples this process's GPU memory with nvidia-smi when it
// is available, else reads the host peak RSS at the end.
type memoryMonitor struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	peak   int64
	gpu    bool
}

func startMemoryMonitor() *memoryMonitor {
	m := &memoryMonitor{}
	if _, err := exec.LookPath("nvidia-smi"); err != nil || os.Getenv("GOMLX_BACKEND") == "go" {
		return m
	}
	if _, ok := gpuMemoryOfProcess(); !ok {
		return m
	}
	m.gpu = true
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, ok := gpuMemoryOfProcess(); ok {
				m.mu.Lock()
				m.peak = max(m.peak, b)
				m.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (m *memoryMonitor) stop() (int64, string) {
	if m.gpu {
		m.cancel()
		m.wg.Wait()
		return m.peak, "nvidia-smi"
	}
	return hostPeakRSS(), "host-rss"
}

// gpuMemoryOfProcess asks nvidia-smi for the GPU memory used by this
// process (bytes).
func gpuMemoryOfProcess() (int64, bool) {
	out, err := exec.Command("nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return 0, false
	}
	pid := strconv.Itoa(os.Getpid())
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ",")
		if len(f) == 2 && strings.TrimSpace(f[0]) == pid {
			mib, err := strconv.ParseInt(strings.TrimSpace(f[1]), 10, 64)
			if err == nil {
				return mib << 20, true
			}
		}
	}
	return 0, true // nvidia-smi works; this process holds no GPU memory yet
}

// hostPeakRSS is VmHWM of /proc/self/status in bytes (0 if unavailable).
func hostPeakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
