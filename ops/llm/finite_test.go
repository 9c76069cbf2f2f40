package llm

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fixtures"
)

func TestFirstNonFinite(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	cases := []struct {
		name string
		t    *tensors.Tensor
		want int
		what string
	}{
		{"f32 finite", tensors.FromValue([]float32{1, -2, 3e38}), -1, ""},
		{"f32 NaN", tensors.FromValue([]float32{1, float32(nan), 3}), 1, "NaN"},
		{"f32 -Inf", tensors.FromValue([]float32{0, 0, float32(math.Inf(-1))}), 2, "-Inf"},
		{"f64 +Inf", tensors.FromValue([]float64{inf, 0}), 0, "+Inf"},
		{"bf16 NaN", tensors.FromValue([]bfloat16.BFloat16{bfloat16.FromFloat32(1), bfloat16.FromFloat32(float32(nan))}), 1, "NaN"},
		{"bf16 finite max", tensors.FromValue([]bfloat16.BFloat16{bfloat16.FromFloat32(3e38)}), -1, ""},
		{"f16 overflow to Inf", tensors.FromValue([]float16.Float16{float16.FromFloat32(1), float16.FromFloat32(70000)}), 1, "+Inf"},
		{"f16 max finite", tensors.FromValue([]float16.Float16{float16.FromFloat32(65504)}), -1, ""},
	}
	for _, tc := range cases {
		i, what, err := firstNonFinite(tc.t)
		if err != nil || i != tc.want || what != tc.what {
			t.Errorf("%s: got %d %q %v, want %d %q", tc.name, i, what, err, tc.want, tc.what)
		}
	}
	if _, err := FirstNonFinite(tensors.FromValue([]int32{1})); err == nil {
		t.Error("int32 tensor accepted")
	}
}

// TestLoadModelRefusesNonFiniteWeight: a NaN or Inf anywhere in the
// checkpoint is an error at load naming the tensor and element.
func TestLoadModelRefusesNonFiniteWeight(t *testing.T) {
	cases := []struct {
		tensor string
		index  int
		value  float32
		want   string
	}{
		{"model.layers.1.mlp.down_proj.weight", 7, fixtures.NaN, `weight "model.layers.1.mlp.down_proj.weight" [64 176]: element 7 is NaN`},
		{"model.embed_tokens.weight", 0, float32(math.Inf(-1)), `weight "model.embed_tokens.weight" [512 64]: element 0 is -Inf`},
	}
	for _, tc := range cases {
		dir := fixtures.WithNonFinite(t, "dev-llama-gqa", tc.tensor, tc.index, tc.value)
		for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
			_, err := LoadModel(dir, dt)
			if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s as %s: err = %v, want %q", tc.tensor, dt, err, tc.want)
			}
		}
	}
}

// TestLoadModelFlagsOverflowToFloat16: a finite float32 weight beyond
// float16's range becomes +Inf when loaded as float16, which is refused.
func TestLoadModelFlagsOverflowToFloat16(t *testing.T) {
	dir := fixtures.WithNonFinite(t, "dev-llama-gqa", "model.norm.weight", 3, 1e6)
	if _, err := LoadModel(dir, dtypes.Float32); err != nil {
		t.Fatalf("float32 load of a finite 1e6: %v", err)
	}
	_, err := LoadModel(dir, dtypes.Float16)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `"model.norm.weight" [64]: element 3 is +Inf`) {
		t.Errorf("err = %v", err)
	}
}

func TestGenerateRefusesBeyondMaxPositions(t *testing.T) {
	m, r := loadRunner(t, hfFixture("dev-llama-gqa"), dtypes.Float32)
	maxPos := m.Config.MaxPositions
	for _, maxNew := range []int{maxPos, 1_000_000_000, math.MaxInt - 2} {
		_, err := r.Generate([][]int32{{1, 2, 3}}, GenerateOptions{MaxNewTokens: maxNew})
		if err == nil || !strings.Contains(err.Error(), "exceeds the model's max_position_embeddings") {
			t.Errorf("MaxNewTokens %d: err = %v", maxNew, err)
		}
	}
	// The last position that fits is accepted: 3 prompt tokens + maxPos-3 new (256 in all).
	if _, err := r.Generate([][]int32{{1, 2, 3}}, GenerateOptions{MaxNewTokens: maxPos - 3}); err != nil {
		t.Errorf("generation up to max_position_embeddings refused: %v", err)
	}
}

// TestGenerateRefusesNonFiniteLogits: weights that slip past the load check
// (set in memory) give NaN logits, which Generate reports with the step and
// the first layer whose activations went non-finite, instead of emitting
// token 0.
func TestGenerateRefusesNonFiniteLogits(t *testing.T) {
	cases := []struct {
		tensor string
		want   string
	}{
		{LMHeadName, "llm.Generate: logits are not finite (non-finite value (NaN or Inf)): the first non-finite activations are in lm_head (every layer output is finite)"},
		{"model.layers.1.mlp.down_proj.weight", "the first non-finite activations are in layer 1"},
		{"model.layers.0.self_attn.v_proj.weight", "the first non-finite activations are in layer 0"},
		{"model.norm.weight", "the first non-finite activations are in the final norm"},
		{"model.embed_tokens.weight", "the first non-finite activations are in the embeddings"},
	}
	for _, tc := range cases {
		t.Run(tc.tensor, func(t *testing.T) {
			m, err := LoadModel(hfFixture("dev-llama-gqa"), dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			m.Weights[tc.tensor].MutableFlatData(func(flat any) {
				for i := range flat.([]float32) {
					flat.([]float32)[i] = float32(math.NaN())
				}
			})
			r, err := NewRunner(testBackend(t), m)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			out, err := r.Generate([][]int32{{1, 2, 3}}, GenerateOptions{MaxNewTokens: 5})
			if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("out %v, err = %v\nwant %q", out, err, tc.want)
			}
		})
	}
}

// TestFirstNonFiniteEveryPosition: the word-at-a-time scan finds a NaN in
// every lane of every word and in the tail (13 elements: words plus a tail
// for 2- and 4-byte dtypes).
func TestFirstNonFiniteEveryPosition(t *testing.T) {
	const n = 13
	for pos := range n {
		f32 := make([]float32, n)
		b16 := make([]bfloat16.BFloat16, n)
		h16 := make([]float16.Float16, n)
		for i := range n {
			f32[i], b16[i], h16[i] = 65000, bfloat16.FromFloat32(-3e38), float16.FromFloat32(-65000) // large but finite
		}
		f32[pos], b16[pos], h16[pos] = float32(math.NaN()), bfloat16.FromFloat32(float32(math.Inf(1))), float16.FromFloat32(float32(math.NaN()))
		for _, tt := range []*tensors.Tensor{tensors.FromValue(f32), tensors.FromValue(b16), tensors.FromValue(h16)} {
			if got, err := FirstNonFinite(tt); err != nil || got != pos {
				t.Errorf("%s, non-finite at %d: got %d, %v", tt.DType(), pos, got, err)
			}
		}
	}
}
