package llm

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/tensors"
)

// fixtureNames are the model fixtures in testdata/hf (Hugging Face references).
var fixtureNames = []string{"dev-llama-gqa", "dev-llama3-headdim-tied-bf16", "dev-qwen2-bias"}

func fixtureDir(name string) string { return filepath.Join("..", "..", "testdata", "hf", name) }

// testBackend returns the Go backend (GOMLX_BACKEND=go is set if unset).
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	if os.Getenv("GOMLX_BACKEND") == "" {
		os.Setenv("GOMLX_BACKEND", "go")
	}
	b, err := compute.New()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}

// readSafetensorsFile is a small test-side reader (F32, BF16, I32 → float32 /
// int32 host tensors), independent of the package under test.
func readSafetensorsFile(t testing.TB, path string) map[string]*tensors.Tensor {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data[:8])
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	body := data[8+n:]
	out := map[string]*tensors.Tensor{}
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var info struct {
			DType   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &info); err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		b := body[info.Offsets[0]:info.Offsets[1]]
		switch info.DType {
		case "F32":
			v := make([]float32, len(b)/4)
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			out[name] = tensors.FromFlatDataAndDimensions(v, info.Shape...)
		case "BF16":
			v := make([]float32, len(b)/2)
			for i := range v {
				v[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
			}
			out[name] = tensors.FromFlatDataAndDimensions(v, info.Shape...)
		case "I32":
			v := make([]int32, len(b)/4)
			for i := range v {
				v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
			out[name] = tensors.FromFlatDataAndDimensions(v, info.Shape...)
		default:
			t.Fatalf("%s: %s: dtype %s not handled by the test reader", path, name, info.DType)
		}
	}
	return out
}

// testConfig parses the subset of config.json that Forward uses (both the
// classic and the transformers-5 rope forms).
func testConfig(t testing.TB, dir string) *Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		ModelType     string   `json:"model_type"`
		Vocab         int      `json:"vocab_size"`
		Hidden        int      `json:"hidden_size"`
		FFN           int      `json:"intermediate_size"`
		Layers        int      `json:"num_hidden_layers"`
		Heads         int      `json:"num_attention_heads"`
		KVHeads       int      `json:"num_key_value_heads"`
		HeadDim       int      `json:"head_dim"`
		Eps           float64  `json:"rms_norm_eps"`
		Tie           bool     `json:"tie_word_embeddings"`
		AttnBias      bool     `json:"attention_bias"`
		Theta         float64  `json:"rope_theta"`
		EOS           *int     `json:"eos_token_id"`
		RopeScaling   *ropeRaw `json:"rope_scaling"`
		RopeParameter *ropeRaw `json:"rope_parameters"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{ModelType: raw.ModelType, VocabSize: raw.Vocab, Hidden: raw.Hidden, FFN: raw.FFN,
		NumLayers: raw.Layers, NumHeads: raw.Heads, NumKVHeads: raw.KVHeads, HeadDim: raw.HeadDim,
		RMSNormEps: raw.Eps, TieEmbeddings: raw.Tie, AttentionBias: raw.AttnBias || raw.ModelType == "qwen2",
		HiddenAct: "silu", RopeTheta: raw.Theta, Rope: RopeScaling{Type: "default"}}
	if cfg.HeadDim == 0 {
		cfg.HeadDim = cfg.Hidden / cfg.NumHeads
	}
	if raw.EOS != nil {
		cfg.EOSTokenIDs = []int{*raw.EOS}
	}
	for _, r := range []*ropeRaw{raw.RopeScaling, raw.RopeParameter} {
		if r == nil {
			continue
		}
		if r.Theta != 0 {
			cfg.RopeTheta = r.Theta
		}
		if r.Type != "" {
			cfg.Rope = RopeScaling{Type: r.Type, Factor: r.Factor, LowFreqFactor: r.Low, HighFreqFactor: r.High,
				OriginalMaxPositionEmbeddings: r.OrigMax}
		}
	}
	return cfg
}

type ropeRaw struct {
	Type    string  `json:"rope_type"`
	Theta   float64 `json:"rope_theta"`
	Factor  float64 `json:"factor"`
	Low     float64 `json:"low_freq_factor"`
	High    float64 `json:"high_freq_factor"`
	OrigMax int     `json:"original_max_position_embeddings"`
}

// fixture is one model fixture loaded for tests.
type fixture struct {
	name    string
	cfg     *Config
	weights map[string]*tensors.Tensor // float32
	ref     map[string]*tensors.Tensor
}

func loadFixture(t testing.TB, name string) *fixture {
	t.Helper()
	dir := fixtureDir(name)
	return &fixture{
		name:    name,
		cfg:     testConfig(t, dir),
		weights: readSafetensorsFile(t, filepath.Join(dir, "model.safetensors")),
		ref:     readSafetensorsFile(t, filepath.Join(dir, "reference.safetensors")),
	}
}

func (f *fixture) weightNames() []string {
	names := make([]string, 0, len(f.weights))
	for n := range f.weights {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
