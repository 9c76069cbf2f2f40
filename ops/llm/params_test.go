package llm

import (
	"path/filepath"
	"testing"

	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/safetensors"
)

// TestParamsFixtures checks the accounting against numbers worked out by hand
// from each fixture's config, and against the real element counts of the
// tensors in its model.safetensors.
func TestParamsFixtures(t *testing.T) {
	cases := []struct {
		fixture string
		want    ParamCount
		kvF32   int64 // KV-cache bytes per token in float32
	}{
		// vocab 512, hidden 64, ffn 176, 2 layers, 4/2 heads × 16, untied:
		// attention/layer 64·64 + 2·32·64 + 64·64 = 12288; MLP/layer 3·176·64 = 33792.
		{"dev-llama-gqa", ParamCount{Total: 158016, NonEmbedding: 92480, Embedding: 65536, EmbedTokens: 32768, LMHead: 32768,
			Attention: 24576, MLP: 67584, Norms: 320, PerLayer: 46208}, 2 * 2 * 2 * 16 * 4},
		// vocab 384, hidden 96, ffn 200, 3 layers, 6/2 heads × 24, tied:
		// attention/layer 144·96 + 2·48·96 + 96·144 = 36864; MLP/layer 3·200·96 = 57600.
		{"dev-llama3-headdim-tied-bf16", ParamCount{Total: 320928, NonEmbedding: 284064, Embedding: 36864, EmbedTokens: 36864,
			Attention: 110592, MLP: 172800, Norms: 672, PerLayer: 94656}, 2 * 3 * 2 * 24 * 4},
		// vocab 300, hidden 64, ffn 128, 2 layers, 4/2 heads × 16, tied, q/k/v bias:
		// attention/layer 12288 + 64 + 2·32 = 12416; MLP/layer 3·128·64 = 24576.
		{"dev-qwen2-bias", ParamCount{Total: 93504, NonEmbedding: 74304, Embedding: 19200, EmbedTokens: 19200,
			Attention: 24832, MLP: 49152, Norms: 320, PerLayer: 37120}, 2 * 2 * 2 * 16 * 4},
	}
	for _, tc := range cases {
		dir := filepath.Join("..", "..", "testdata", "hf", tc.fixture)
		cfg, err := LoadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Params(); got != tc.want {
			t.Errorf("%s: Params()\n got %+v\nwant %+v", tc.fixture, got, tc.want)
		}
		// Real element count and data bytes of the checkpoint.
		f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		var elems, dataBytes int64
		var onDisk safetensors.DType
		for _, name := range f.Names() {
			info, _ := f.Info(name)
			elems += info.NumElements()
			dataBytes += info.End - info.Begin
			onDisk = info.DType
		}
		f.Close()
		if elems != tc.want.Total {
			t.Errorf("%s: model.safetensors holds %d elements, Params().Total = %d", tc.fixture, elems, tc.want.Total)
		}
		if got := cfg.WeightBytes(onDisk.GoMLX()); got != dataBytes {
			t.Errorf("%s: WeightBytes(%s) = %d, data section is %d bytes", tc.fixture, onDisk, got, dataBytes)
		}
		var shapeElems int64
		for _, s := range cfg.TensorShapes() {
			n := int64(1)
			for _, d := range s {
				n *= int64(d)
			}
			shapeElems += n
		}
		if shapeElems != tc.want.Total {
			t.Errorf("%s: TensorShapes hold %d elements, want %d", tc.fixture, shapeElems, tc.want.Total)
		}
		if got := cfg.KVCacheBytesPerToken(dtypes.Float32); got != tc.kvF32 {
			t.Errorf("%s: KVCacheBytesPerToken(f32) = %d, want %d", tc.fixture, got, tc.kvF32)
		}
		if got := cfg.KVCacheBytesPerToken(dtypes.BFloat16); got != tc.kvF32/2 {
			t.Errorf("%s: KVCacheBytesPerToken(bf16) = %d, want %d", tc.fixture, got, tc.kvF32/2)
		}
		if got := cfg.WeightBytes(dtypes.BFloat16); got != 2*tc.want.Total {
			t.Errorf("%s: WeightBytes(bf16) = %d, want %d", tc.fixture, got, 2*tc.want.Total)
		}
	}
}

// TestParamsLlama3_8B checks a published size: Llama-3.1-8B has 8,030,261,248
// parameters (vocab 128256, hidden 4096, ffn 14336, 32 layers, 32/8 heads).
func TestParamsLlama3_8B(t *testing.T) {
	cfg := &Config{ModelType: "llama", VocabSize: 128256, Hidden: 4096, FFN: 14336, NumLayers: 32,
		NumHeads: 32, NumKVHeads: 8, HeadDim: 128}
	p := cfg.Params()
	if p.Total != 8_030_261_248 {
		t.Errorf("Llama-3.1-8B total = %d, want 8030261248", p.Total)
	}
	if p.NonEmbedding != 8_030_261_248-2*128256*4096 {
		t.Errorf("non-embedding = %d", p.NonEmbedding)
	}
	// 128 KiB of bf16 KV cache per token: 2 × 32 × 8 × 128 × 2 bytes.
	if got := cfg.KVCacheBytesPerToken(dtypes.BFloat16); got != 131072 {
		t.Errorf("KV bytes/token = %d, want 131072", got)
	}
	// With biases everywhere (llama attention_bias + mlp_bias).
	cfg.AttentionBias, cfg.MLPBias = true, true
	q := cfg.Params()
	if d := q.Total - p.Total; d != 32*(4096+2*1024+4096+2*14336+4096) {
		t.Errorf("bias params = %d", d)
	}
}
