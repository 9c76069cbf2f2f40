package llm

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
)

// Llama-3.1-8B (teacher) and Llama-3.1-Minitron-4B-Width (student) shapes.
var (
	llama8B = &Config{ModelType: "llama", Hidden: 4096, FFN: 14336, NumLayers: 32, NumHeads: 32, NumKVHeads: 8,
		HeadDim: 128, VocabSize: 128256}
	minitron4B = &Config{ModelType: "llama", Hidden: 3072, FFN: 9216, NumLayers: 32, NumHeads: 32, NumKVHeads: 8,
		HeadDim: 128, VocabSize: 128256}
)

// h200Bytes is one 141 GB GPU.
const h200Bytes = 141_000_000_000

// TestDistillBytes8BTo4B checks the distillation plan of Llama-3.1-8B → 4B
// (bf16 teacher and compute, one 2048-token sequence, logits 256 positions
// at a time) against numbers computed by hand:
//
//	teacher params 8,030,261,248 (published) × 2 B              = 16,060,522,496
//	student params: embed + lm_head 2 × 128256 × 3072 = 788,004,864;
//	  per layer: q,o 2 × 4096 × 3072 + k,v 2 × 1024 × 3072 = 31,457,280,
//	  MLP 3 × 9216 × 3072 = 84,934,656, norms 6,144 → 116,398,080 × 32
//	  = 3,724,738,560; + final norm 3,072 → 4,512,746,496 params
//	student f32 weights 4,512,746,496 × 4                       = 18,050,985,984 (and as much for gradients)
//	Adam moments 2 × 18,050,985,984                             = 36,101,971,968
//	student layer: per token 4·3072 + 4096 + 2·1024 + 3·9216 = 46,080 elements
//	  × 2048 × 2 B = 188,743,680; scores 32 × 2048² × 8 B = 1,073,741,824;
//	  1,262,485,504 × 32 layers                                 = 40,399,536,128
//	teacher layer: 65,536 × 2048 × 2 = 268,435,456 + 1,073,741,824 = 1,342,177,280
//	logits 3 × 256 × 128256 × 4 B                               = 394,002,432
//	total                                                       = 130,400,182,272
func TestDistillBytes8BTo4B(t *testing.T) {
	if got := llama8B.Params().Total; got != 8_030_261_248 {
		t.Fatalf("Llama-3.1-8B params %d, published 8,030,261,248", got)
	}
	got := DistillBytes(llama8B, minitron4B, dtypes.BFloat16, dtypes.BFloat16, 1, 2048, 256)
	want := DistillMemory{
		TeacherWeights: 16_060_522_496,
		StudentWeights: 18_050_985_984,
		Gradients:      18_050_985_984,
		OptimizerState: 36_101_971_968,
		Activations:    40_399_536_128 + 1_342_177_280,
		Logits:         394_002_432,
		Total:          130_400_182_272,
	}
	if got != want {
		t.Errorf("DistillBytes = %+v\nwant          %+v", got, want)
	}
	// One more sequence adds 41.7 GB of activations: beyond 141 GB.
	for _, tc := range []struct {
		seqLen, want int
	}{
		{2048, 1},
		{8192, 0}, // the materialized scores alone (32 × 8192² × 8 B × 32 layers) are 550 GB
	} {
		if b := LargestDistillBatch(llama8B, minitron4B, dtypes.BFloat16, dtypes.BFloat16, tc.seqLen, 256, h200Bytes); b != tc.want {
			t.Errorf("largest batch at seqLen %d on 141 GB: %d, want %d", tc.seqLen, b, tc.want)
		}
	}
	// Whole-sequence logits cost seqLen/chunk times more.
	whole := DistillBytes(llama8B, minitron4B, dtypes.BFloat16, dtypes.BFloat16, 1, 2048, 0)
	if whole.Logits != 8*394_002_432 {
		t.Errorf("unchunked logits %d, want 8 × the 256-position chunk", whole.Logits)
	}
}
