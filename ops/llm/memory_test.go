package llm

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
)

// hugeConfig is a shape whose parameter count overflows int64: every
// dimension at the parser's per-field limit (2^26), 4096 layers.
func hugeConfig() *Config {
	return &Config{ModelType: "llama", VocabSize: 1 << 26, Hidden: 1 << 26, FFN: 1 << 26, NumLayers: 4096,
		NumHeads: 1 << 26, NumKVHeads: 1 << 26, HeadDim: 1 << 26, MaxPositions: 1 << 20}
}

func TestParamsSaturateInsteadOfOverflowing(t *testing.T) {
	p := hugeConfig().Params()
	for _, f := range []struct {
		name string
		v    int64
	}{{"total", p.Total}, {"attention", p.Attention}, {"mlp", p.MLP}, {"per_layer", p.PerLayer}, {"non_embedding", p.NonEmbedding}} {
		if f.v != math.MaxInt64 {
			t.Errorf("%s = %d, want saturated %d", f.name, f.v, int64(math.MaxInt64))
		}
	}
	// Embedding: 2^26·2^26 = 2^52 fits exactly.
	if p.EmbedTokens != 1<<52 {
		t.Errorf("embed_tokens = %d, want 2^52", p.EmbedTokens)
	}
	if got := hugeConfig().WeightBytes(dtypes.Float32); got != math.MaxInt64 {
		t.Errorf("WeightBytes = %d, want saturated", got)
	}
	if got := hugeConfig().KVCacheBytes(dtypes.Float32, 1<<30, 1<<30); got != math.MaxInt64 {
		t.Errorf("KVCacheBytes = %d, want saturated", got)
	}
}

func TestParseConfigRefusesOverflowingShape(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"every size at its limit", `{"model_type":"llama","vocab_size":67108864,"hidden_size":67108864,"intermediate_size":67108864,"num_hidden_layers":4096,"num_attention_heads":1,"head_dim":67108864}`,
			"more than 9.2e18 parameters"},
		{"2^51 parameters", `{"model_type":"llama","vocab_size":67108864,"hidden_size":16777216,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":1,"head_dim":2}`,
			"parameters, implausibly many"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEstimatesByHand(t *testing.T) {
	// dev-llama-gqa shape: vocab 512, hidden 64, ffn 176, 2 layers, 4/2 heads × 16.
	cfg := &Config{VocabSize: 512, Hidden: 64, FFN: 176, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16}
	// KV: 2·2 layers·2 heads·16·4 bytes = 512 bytes/token; ×3 sequences ×10 tokens.
	if got, want := cfg.KVCacheBytes(dtypes.Float32, 3, 10), int64(512*30); got != want {
		t.Errorf("KVCacheBytes = %d, want %d", got, want)
	}
	// Activations, batch 2 × seq 8 = 16 tokens: logits 16·512·4 = 32768; layer per token
	// 4·64 + 64 + 2·32 + 3·176 = 912 elements ·4 bytes ·16 = 58368; scores 2·4·8·8·2·4 = 4096.
	if got, want := cfg.ForwardActivationBytes(dtypes.Float32, 2, 8), int64(32768+58368+4096); got != want {
		t.Errorf("ForwardActivationBytes = %d, want %d", got, want)
	}
	// Chunked: a chunk holds 3 copies of its logits (LogitsChunkCopies); a
	// small vocabulary fits one chunk: 3 × 32768. Qwen2.5's 151936 at batch
	// 8 × 2048 keeps 256 MiB / (3·8·151936·4) = 18 positions: 3 copies of
	// 8·18·151936·4 = 87,515,136 bytes instead of 9.96 GB.
	if got, want := cfg.ChunkedForwardActivationBytes(dtypes.Float32, 2, 8), int64(3*32768+58368+4096); got != want {
		t.Errorf("ChunkedForwardActivationBytes (one chunk) = %d, want %d", got, want)
	}
	big := *cfg
	big.VocabSize = 151936
	layer := big.ForwardActivationBytes(dtypes.Float32, 8, 2048) - 8*2048*151936*4
	if got, want := big.ChunkedForwardActivationBytes(dtypes.Float32, 8, 2048), layer+3*87_515_136; got != want {
		t.Errorf("ChunkedForwardActivationBytes (152k vocabulary) = %d, want %d", got, want)
	}
}

func TestCheckFitsMessage(t *testing.T) {
	const gib = 1 << 30
	cases := []struct {
		need, avail int64
		fits        bool
		want        string
	}{
		{need: 1 * gib, avail: 2 * gib, fits: true},
		{need: 19 * gib / 10, avail: 2 * gib, want: "job needs ~1.9 GiB, about 2.0 GiB available (test)"}, // over the 90% headroom
		{need: 300 * gib, avail: 16 * gib, want: "job needs ~300.0 GiB, about 16.0 GiB available (test)"},
		{need: math.MaxInt64, avail: 16 * gib, want: "job needs ~more than 8 EiB"},
	}
	for _, tc := range cases {
		err := checkFits("job", tc.need, tc.avail, "test")
		if tc.fits != (err == nil) {
			t.Errorf("need %d avail %d: err = %v, want fits=%v", tc.need, tc.avail, err, tc.fits)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrDoesNotFit)) {
			t.Errorf("err = %v, want %q wrapping ErrDoesNotFit", err, tc.want)
		}
	}
}

func TestMemInfoAvailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(path, []byte("MemTotal:       32000000 kB\nMemFree:         1000 kB\nMemAvailable:    2048 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := memInfoAvailable(path); !ok || got != 2048*1024 {
		t.Errorf("memInfoAvailable = %d, %v; want %d", got, ok, 2048*1024)
	}
	if _, ok := memInfoAvailable(filepath.Join(t.TempDir(), "missing")); ok {
		t.Error("missing file read as available memory")
	}
}

func TestCheckFitsRefusesHugeWeights(t *testing.T) {
	if _, _, ok := AvailableMemory(); !ok {
		t.Skip("available memory not readable on this system")
	}
	err := CheckFits("weights", hugeConfig().WeightBytes(dtypes.BFloat16))
	if !errors.Is(err, ErrDoesNotFit) {
		t.Fatalf("err = %v, want ErrDoesNotFit", err)
	}
	if err := CheckFits("nothing", 1); err != nil {
		t.Errorf("1 byte does not fit: %v", err)
	}
}

func TestTrainingBytesByHand(t *testing.T) {
	// dev-llama-gqa shape (158016 parameters, 2 layers), batch 2 × seq 8, float32:
	// state 4 × 158016 × 4 = 2528256; per layer 58368 + 4096 = 62464, × 2 layers = 124928;
	// logits and their gradient 2 × 32768 = 65536.
	cfg := &Config{VocabSize: 512, Hidden: 64, FFN: 176, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16}
	if got, want := cfg.TrainingBytes(dtypes.Float32, 2, 8), int64(2528256+124928+65536); got != want {
		t.Errorf("TrainingBytes = %d, want %d", got, want)
	}
}

func TestCgroupAvailable(t *testing.T) {
	const gib = 1 << 30
	cases := []struct {
		name  string
		files map[string]string
		want  int64
		ok    bool
	}{
		{"v2 limit", map[string]string{"memory.max": "8589934592\n", "memory.current": "1073741824\n"}, 7 * gib, true},
		{"v2 no limit", map[string]string{"memory.max": "max\n", "memory.current": "1073741824\n"}, 0, false},
		{"v2 over the limit", map[string]string{"memory.max": "1073741824", "memory.current": "2147483648"}, 0, true},
		{"v1 limit", map[string]string{"memory/memory.limit_in_bytes": "4294967296", "memory/memory.usage_in_bytes": "1073741824"}, 3 * gib, true},
		{"v1 no limit (huge)", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712", "memory/memory.usage_in_bytes": "1"}, 0, false},
		{"no cgroup files", map[string]string{}, 0, false},
	}
	for _, tc := range cases {
		root := t.TempDir()
		for name, content := range tc.files {
			path := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, ok := cgroupAvailable(root)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
