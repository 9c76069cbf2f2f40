package importance

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/results"
)

// refTolerance is the bound per axis: max |ours − ref| ≤ refTolerance × max |ref|.
const refTolerance = 1e-3

var fixtureNames = []string{"dev-llama-gqa", "dev-llama3-headdim-tied-bf16", "dev-qwen2-bias"}

func fixtureDir(name string) string { return filepath.Join("..", "..", "testdata", "hf", name) }

// testModel is a fixture checkpoint read by a small test-side reader
// (independent of the package under test).
type testModel struct {
	name    string
	cfg     *llm.Config
	weights map[string]*tensors.Tensor
	ids     [][]int32 // reference input_ids [4][32]
	ref     *results.Importance
}

func loadTestModel(t testing.TB, name string) *testModel {
	t.Helper()
	dir := fixtureDir(name)
	m := &testModel{name: name, cfg: readTestConfig(t, dir), weights: readSafetensors(t, filepath.Join(dir, "model.safetensors"))}
	ref := readSafetensors(t, filepath.Join(dir, "reference.safetensors"))
	flat := tensors.MustCopyFlatData[int32](ref["input_ids"])
	dims := ref["input_ids"].Shape().Dimensions
	for b := range dims[0] {
		m.ids = append(m.ids, flat[b*dims[1]:(b+1)*dims[1]])
	}
	imp, err := results.LoadImportance(filepath.Join(dir, "reference_importance.json"))
	if err != nil {
		t.Fatal(err)
	}
	m.ref = imp
	return m
}

// readSafetensors reads F32/BF16 (→ float32) and I32 tensors.
func readSafetensors(t testing.TB, path string) map[string]*tensors.Tensor {
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
		case "F32", "BF16":
			size := 4
			if info.DType == "BF16" {
				size = 2
			}
			v := make([]float32, len(b)/size)
			for i := range v {
				if size == 4 {
					v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
				} else {
					v[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
				}
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

// readTestConfig parses what Forward needs from config.json (classic and
// transformers-5 rope forms).
func readTestConfig(t testing.TB, dir string) *llm.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	type rope struct {
		Type    string  `json:"rope_type"`
		Theta   float64 `json:"rope_theta"`
		Factor  float64 `json:"factor"`
		Low     float64 `json:"low_freq_factor"`
		High    float64 `json:"high_freq_factor"`
		OrigMax int     `json:"original_max_position_embeddings"`
	}
	var raw struct {
		ModelType string  `json:"model_type"`
		Vocab     int     `json:"vocab_size"`
		Hidden    int     `json:"hidden_size"`
		FFN       int     `json:"intermediate_size"`
		Layers    int     `json:"num_hidden_layers"`
		Heads     int     `json:"num_attention_heads"`
		KVHeads   int     `json:"num_key_value_heads"`
		HeadDim   int     `json:"head_dim"`
		Eps       float64 `json:"rms_norm_eps"`
		Tie       bool    `json:"tie_word_embeddings"`
		AttnBias  bool    `json:"attention_bias"`
		Theta     float64 `json:"rope_theta"`
		Scaling   *rope   `json:"rope_scaling"`
		Params    *rope   `json:"rope_parameters"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	cfg := &llm.Config{ModelType: raw.ModelType, VocabSize: raw.Vocab, Hidden: raw.Hidden, FFN: raw.FFN,
		NumLayers: raw.Layers, NumHeads: raw.Heads, NumKVHeads: raw.KVHeads, HeadDim: raw.HeadDim,
		RMSNormEps: raw.Eps, TieEmbeddings: raw.Tie, AttentionBias: raw.AttnBias || raw.ModelType == "qwen2",
		HiddenAct: "silu", RopeTheta: raw.Theta, Rope: llm.RopeScaling{Type: "default"}}
	if cfg.HeadDim == 0 {
		cfg.HeadDim = cfg.Hidden / cfg.NumHeads
	}
	for _, r := range []*rope{raw.Scaling, raw.Params} {
		if r == nil {
			continue
		}
		if r.Theta != 0 {
			cfg.RopeTheta = r.Theta
		}
		if r.Type != "" {
			cfg.Rope = llm.RopeScaling{Type: r.Type, Factor: r.Factor, LowFreqFactor: r.Low, HighFreqFactor: r.High,
				OriginalMaxPositionEmbeddings: r.OrigMax}
		}
	}
	return cfg
}

// checkAxis compares one axis (flattened) with the reference.
func checkAxis(t *testing.T, what string, got, ref []float64) {
	t.Helper()
	if len(got) != len(ref) {
		t.Errorf("%s: %d values, reference %d", what, len(got), len(ref))
		return
	}
	var maxRef, maxErr float64
	for i := range ref {
		maxRef = math.Max(maxRef, math.Abs(ref[i]))
		maxErr = math.Max(maxErr, math.Abs(got[i]-ref[i]))
	}
	if maxErr > refTolerance*maxRef {
		t.Errorf("%s: max abs error %.3g > %.0e × max|ref| %.4g", what, maxErr, refTolerance, maxRef)
	}
	if testing.Verbose() {
		t.Logf("%-16s max abs error %.2e = %.2e × max|ref|", what, maxErr, maxErr/maxRef)
	}
}

func flatten(m [][]float64) []float64 {
	var out []float64
	for _, r := range m {
		out = append(out, r...)
	}
	return out
}

// TestReproducesReferenceImportance: every fixture's reference_importance.json,
// with the 4 reference sequences as one batch of 4 and as two batches of 2
// (which must agree with each other to float32 rounding).
func TestReproducesReferenceImportance(t *testing.T) {
	backend := testBackend(t)
	for _, name := range fixtureNames {
		m := loadTestModel(t, name)
		byBatch := map[int]*Scores{}
		for _, batchSize := range []int{4, 2} {
			t.Run(fmt.Sprintf("%s/batch%d", name, batchSize), func(t *testing.T) {
				s, err := Estimate(backend, m.cfg, m.weights, &Calibration{IDs: m.ids},
					Options{BatchSize: batchSize, DropOne: true, ModelID: name})
				if err != nil {
					t.Fatal(err)
				}
				byBatch[batchSize] = s
				checkAxis(t, "ffn", flatten(s.FFN), flatten(m.ref.FFN))
				checkAxis(t, "heads", flatten(s.Heads), flatten(m.ref.Heads))
				checkAxis(t, "hidden", s.Hidden, m.ref.Hidden)
				checkAxis(t, "bi", s.BI, m.ref.BI)
				checkAxis(t, "drop_one_lm_loss", s.DropOneLMLoss, m.ref.DropOneLMLoss)
				checkAxis(t, "lm_loss", []float64{s.LMLoss}, []float64{m.ref.LMLoss})
				if s.Samples != 4 || s.Tokens != 4*32 || s.SeqLen != 32 || s.BatchAgg != "l2" || s.SeqAgg != "mean" || s.Model != name {
					t.Errorf("metadata: samples %d tokens %d seq_len %d agg %s/%s model %q", s.Samples, s.Tokens, s.SeqLen, s.BatchAgg, s.SeqAgg, s.Model)
				}
				if len(s.HeadRankByGroup) != m.cfg.NumLayers || len(s.HeadRankByGroup[0]) != m.cfg.NumKVHeads {
					t.Errorf("head_rank_by_group has shape %d×%d, want %d×%d", len(s.HeadRankByGroup), len(s.HeadRankByGroup[0]), m.cfg.NumLayers, m.cfg.NumKVHeads)
				}
			})
		}
		t.Run(name+"/batch4=batch2", func(t *testing.T) {
			a, b := byBatch[4], byBatch[2]
			if a == nil || b == nil {
				t.Skip("a run failed")
			}
			checkSame(t, "ffn", flatten(a.FFN), flatten(b.FFN))
			checkSame(t, "heads", flatten(a.Heads), flatten(b.Heads))
			checkSame(t, "hidden", a.Hidden, b.Hidden)
			checkSame(t, "bi", a.BI, b.BI)
			checkSame(t, "drop_one_lm_loss", a.DropOneLMLoss, b.DropOneLMLoss)
			checkSame(t, "lm_loss", []float64{a.LMLoss}, []float64{b.LMLoss})
		})
	}
}

// sameTolerance bounds the relative difference of two computations of the
// same scores that differ only in float32 summation order.
const sameTolerance = 1e-5

func checkSame(t *testing.T, what string, a, b []float64) {
	t.Helper()
	for i := range a {
		if math.Abs(a[i]-b[i]) > sameTolerance*math.Max(1, math.Abs(a[i])) {
			t.Errorf("%s[%d]: %.7g vs %.7g", what, i, a[i], b[i])
			return
		}
	}
}
