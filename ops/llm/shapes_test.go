package llm_test

import (
	"path/filepath"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
)

// smallShapes are random bf16 models of each supported family, small
// enough for a unit test but with the families' features: qwen2 attention
// biases and tied embeddings, Mistral's sliding-window config key, Llama-3
// RoPE scaling.
var smallShapes = []struct{ name, config string }{
	{"qwen2", `{"model_type":"qwen2","hidden_size":64,"intermediate_size":160,"num_hidden_layers":3,"num_attention_heads":4,
"num_key_value_heads":2,"vocab_size":1000,"tie_word_embeddings":true,"rms_norm_eps":1e-6,"rope_theta":1000000.0,"torch_dtype":"bfloat16"}`},
	{"mistral", `{"model_type":"mistral","hidden_size":64,"intermediate_size":160,"num_hidden_layers":3,"num_attention_heads":4,
"num_key_value_heads":1,"vocab_size":1000,"tie_word_embeddings":false,"rms_norm_eps":1e-5,"rope_theta":1000000.0,"sliding_window":null,"torch_dtype":"bfloat16"}`},
	{"llama3", `{"model_type":"llama","hidden_size":64,"intermediate_size":160,"num_hidden_layers":3,"num_attention_heads":4,
"num_key_value_heads":2,"vocab_size":1000,"tie_word_embeddings":true,"rms_norm_eps":1e-5,"rope_theta":500000.0,
"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},"torch_dtype":"bfloat16"}`},
}

// TestStoredDTypeFamilies: for every family, a bf16 folder loaded for
// float32 compute keeps bf16 weights, and its logits (lm_head converted in
// many chunks) equal those of the same folder loaded as float32 (bf16 → f32 is exact, so converting in the graph
// or at load gives the same numbers); streamed pruning of it loads back.
func TestStoredDTypeFamilies(t *testing.T) {
	be := fixtures.GoBackend(t)
	ids := [][]int32{{1, 5, 99, 7, 300, 2}}
	for _, shape := range smallShapes {
		t.Run(shape.name, func(t *testing.T) {
			dir, cfg := writeRandomCheckpoint(t, shape.config, 0)
			stored, err := llm.LoadModelForCompute(dir, dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range stored.Weights {
				if w.DType() != dtypes.BFloat16 {
					t.Fatalf("%s loaded as %s, want the stored bfloat16", name, w.DType())
				}
			}
			if err := stored.MoveToDevice(be); err != nil {
				t.Fatal(err)
			}
			wide, err := llm.LoadModel(dir, dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			logitsOf := func(m *llm.Model) []float32 {
				r, err := llm.NewRunner(be, m)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				out, err := r.Logits(ids)
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float32](out)
			}
			restore := llm.SetWeightChunkBytes(7 * cfg.Hidden * 4) // 7 rows of the lm_head a chunk: 143 chunks; every linear layer chunked too
			a := logitsOf(stored)
			restore()
			b := logitsOf(wide)
			if len(a) != len(b) || len(a) != len(ids[0])*cfg.VocabSize {
				t.Fatalf("logits sizes %d and %d", len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("logit %d: %g computing from bf16 weights, %g from float32 ones", i, a[i], b[i])
				}
			}
			out := filepath.Join(t.TempDir(), "pruned")
			if _, err := prune.Dir(dir, "", out, prune.Plan{DropLayers: []int{1}}); err != nil {
				t.Fatal(err)
			}
			back, err := llm.LoadModelForCompute(out, dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			if back.Config.NumLayers != cfg.NumLayers-1 || back.Config.ModelType != cfg.ModelType {
				t.Errorf("pruned config: %d layers of %s", back.Config.NumLayers, back.Config.ModelType)
			}
		})
	}
}
