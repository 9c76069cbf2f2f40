package llm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/safetensors"
)

func hfFixture(name string) string { return filepath.Join("..", "..", "testdata", "hf", name) }

// sameWeights fails unless a and b hold the same names with bit-identical values.
func sameWeights(t *testing.T, what string, a, b map[string]*tensors.Tensor) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d weights", what, len(a), len(b))
	}
	for name, ta := range a {
		tb := b[name]
		if tb == nil || !ta.Equal(tb) {
			t.Fatalf("%s: weight %q differs", what, name)
		}
	}
}

func TestCheckpointLoadFixtures(t *testing.T) {
	for _, name := range hfFixtureNames {
		dir := hfFixture(name)
		m, err := LoadModel(dir, dtypes.Float32)
		if err != nil {
			t.Fatal(err)
		}
		want := m.Config.TensorShapes()
		if len(m.Weights) != len(want) {
			t.Errorf("%s: %d weights, config implies %d", name, len(m.Weights), len(want))
		}
		for n, w := range m.Weights {
			if w.DType() != dtypes.Float32 || !slices.Equal(w.Shape().Dimensions, want[n]) {
				t.Errorf("%s: %s is %s, want float32 %v", name, n, w.Shape(), want[n])
			}
		}
		if _, ok := m.Weights[LMHeadName]; ok == m.Config.TieEmbeddings {
			t.Errorf("%s: lm_head present=%v with tie_word_embeddings=%v", name, ok, m.Config.TieEmbeddings)
		}
		if m.Source != dir {
			t.Errorf("%s: Source = %q", name, m.Source)
		}
	}
	// bf16 on disk: loading as bfloat16 keeps the bits, as float32 widens exactly.
	dir := hfFixture("dev-llama3-headdim-tied-bf16")
	m16, err := LoadModel(dir, dtypes.BFloat16)
	if err != nil {
		t.Fatal(err)
	}
	m32, err := LoadModel(dir, dtypes.InvalidDType)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(filepath.Join(dir, WeightsFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	name := "model.layers.2.self_attn.k_proj.weight"
	raw, _ := f.Bytes(name)
	v16 := tensors.MustCopyFlatData[bfloat16.BFloat16](m16.Weights[name])
	v32 := tensors.MustCopyFlatData[float32](m32.Weights[name])
	for i := range v16 {
		bits := binary.LittleEndian.Uint16(raw[2*i:])
		if uint16(v16[i]) != bits || v32[i] != bfloat16.BFloat16(bits).Float32() {
			t.Fatalf("%s[%d]: bf16 %x, f32 %g, file %x", name, i, v16[i], v32[i], bits)
		}
	}
	if _, err := LoadModel(dir, dtypes.Int32); err == nil || !strings.Contains(err.Error(), "not a weight dtype") {
		t.Errorf("LoadModel int32: %v", err)
	}
}

// TestCheckpointSaveLoadRoundTrip: load → save (single file and sharded, in
// several dtypes) → load gives back the same config and bit-identical weights.
func TestCheckpointSaveLoadRoundTrip(t *testing.T) {
	for _, name := range hfFixtureNames {
		t.Run(name, func(t *testing.T) {
			m, err := LoadModel(hfFixture(name), dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()

			// Default: the config's torch_dtype, one file, generation config copied.
			out := filepath.Join(root, "single")
			if err := SaveModel(out, m, SaveOptions{}); err != nil {
				t.Fatal(err)
			}
			back, err := LoadModel(out, dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			sameWeights(t, "single file", m.Weights, back.Weights)
			if back.Config.TorchDType != m.Config.TorchDType || back.Config.NumKVHeads != m.Config.NumKVHeads || back.Config.Rope != m.Config.Rope {
				t.Errorf("config changed: %+v vs %+v", back.Config, m.Config)
			}
			if _, err := os.Stat(filepath.Join(out, "generation_config.json")); err != nil {
				t.Errorf("generation_config.json not copied: %v", err)
			}
			f, err := safetensors.Open(filepath.Join(out, WeightsFileName))
			if err != nil {
				t.Fatal(err)
			}
			if _, has := f.Info(LMHeadName); has == m.Config.TieEmbeddings {
				t.Errorf("lm_head.weight in file = %v with tied = %v", has, m.Config.TieEmbeddings)
			}
			if f.Metadata()["format"] != "pt" {
				t.Errorf("metadata %v", f.Metadata())
			}
			f.Close()

			// Sharded: ~4 shards.
			sharded := filepath.Join(root, "sharded")
			shardBytes := m.Config.WeightBytes(dtypes.Float32) / 4
			if err := SaveModel(sharded, m, SaveOptions{DType: dtypes.Float32, ShardBytes: shardBytes}); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(sharded)
			var shards []string
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "model-") {
					shards = append(shards, e.Name())
				}
			}
			if len(shards) < 4 || shards[0] != "model-00001-of-0000"+string(rune('0'+len(shards)))+".safetensors" {
				t.Errorf("shards: %v", shards)
			}
			if _, err := os.Stat(filepath.Join(sharded, WeightsFileName)); err == nil {
				t.Errorf("sharded folder also has %s", WeightsFileName)
			}
			var idx shardIndex
			data, err := os.ReadFile(filepath.Join(sharded, IndexFileName))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &idx); err != nil {
				t.Fatal(err)
			}
			if idx.Metadata["total_size"] != float64(m.Config.WeightBytes(dtypes.Float32)) || len(idx.WeightMap) != len(m.Config.TensorShapes()) {
				t.Errorf("index metadata %v, %d entries", idx.Metadata, len(idx.WeightMap))
			}
			back, err = LoadModel(sharded, dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			sameWeights(t, "sharded", m.Weights, back.Weights)

			// float16 on disk: config says so, and values are the f16 roundings.
			half := filepath.Join(root, "half")
			if err := SaveModel(half, m, SaveOptions{DType: dtypes.Float16}); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(half)
			if err != nil || cfg.TorchDType != "float16" {
				t.Fatalf("float16 save: torch_dtype %q, %v", cfg.TorchDType, err)
			}
			h, err := safetensors.Open(filepath.Join(half, WeightsFileName))
			if err != nil {
				t.Fatal(err)
			}
			if info, _ := h.Info(EmbedTokensName); info.DType != safetensors.F16 {
				t.Errorf("embeddings stored as %s", info.DType)
			}
			h.Close()
		})
	}
}

func TestCheckpointSaveRefusals(t *testing.T) {
	src := hfFixture("dev-qwen2-bias")
	m, err := LoadModel(src, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveModel(src, m, SaveOptions{Overwrite: true}); err == nil || !strings.Contains(err.Error(), "loaded from") {
		t.Fatalf("saving over the source: %v", err)
	}
	root := t.TempDir()
	out := filepath.Join(root, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := SaveModel(out, m, SaveOptions{}); err != nil { // empty folder is fine
		t.Fatal(err)
	}
	if err := SaveModel(out, m, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("saving into a non-empty folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(out, "stale.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SaveModel(out, m, SaveOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "stale.txt")); err == nil {
		t.Errorf("Overwrite kept the old folder's content")
	}
	// A model loaded from out cannot be saved back over out.
	again, err := LoadModel(out, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveModel(out+"/", again, SaveOptions{Overwrite: true}); err == nil {
		t.Errorf("saved over its own source")
	}
	// Inconsistent weights are refused before anything is written.
	bad := &Model{Config: m.Config, Weights: map[string]*tensors.Tensor{}}
	for k, v := range m.Weights {
		bad.Weights[k] = v
	}
	delete(bad.Weights, FinalNormName)
	if err := SaveModel(filepath.Join(root, "bad"), bad, SaveOptions{}); err == nil || !strings.Contains(err.Error(), FinalNormName) {
		t.Errorf("missing weight: %v", err)
	}
	bad.Weights[FinalNormName] = tensors.FromShape(m.Weights[FinalNormName].Shape())
	bad.Weights["model.layers.0.mlp.extra.weight"] = m.Weights[FinalNormName]
	if err := SaveModel(filepath.Join(root, "bad"), bad, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "mlp.extra") {
		t.Errorf("unexpected weight: %v", err)
	}
	delete(bad.Weights, "model.layers.0.mlp.extra.weight")
	bad.Weights[FinalNormName] = tensors.FromValue([]float32{1, 2})
	if err := SaveModel(filepath.Join(root, "bad"), bad, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("bad shape: %v", err)
	}
	// Nothing but out is left in root (no temporary or old folders).
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("root holds %v, want only out", names)
	}
}

// copyFixture copies a fixture's config.json (and optionally its weights)
// into a new temporary folder.
func copyFixture(t *testing.T, name string, withWeights bool) string {
	t.Helper()
	dir := t.TempDir()
	files := []string{ConfigFileName}
	if withWeights {
		files = append(files, WeightsFileName)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(hfFixture(name), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fixtureTensors reads a fixture's weights in their stored dtype.
func fixtureTensors(t *testing.T, name string) []safetensors.NamedTensor {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(hfFixture(name), WeightsFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []safetensors.NamedTensor
	for _, n := range f.Names() {
		tt, err := f.Tensor(n, dtypes.InvalidDType)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, safetensors.NamedTensor{Name: n, T: tt})
	}
	return out
}

// rewriteHeader rewrites the JSON header of dir/model.safetensors through edit
// (keeping the data section), re-encoding the length prefix.
func rewriteHeader(t *testing.T, path string, edit func(h map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	var h map[string]any
	if err := json.Unmarshal(data[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hdr, _ := json.Marshal(h)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	out = append(append(out, hdr...), data[8+n:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointBadFile builds broken checkpoints and checks that LoadModel
// rejects each with an error naming the problem.
func TestCheckpointBadFile(t *testing.T) {
	const fixture = "dev-llama-gqa"
	const victim = "model.layers.1.mlp.up_proj.weight"
	writeWeights := func(t *testing.T, dir string, ts []safetensors.NamedTensor) {
		if err := safetensors.Write(filepath.Join(dir, WeightsFileName), ts, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
	}
	writeIndex := func(t *testing.T, dir string, weightMap map[string]string) {
		data, _ := json.Marshal(shardIndex{Metadata: map[string]any{"total_size": 1}, WeightMap: weightMap})
		if err := os.WriteFile(filepath.Join(dir, IndexFileName), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		build func(t *testing.T) string // returns the model folder
		want  []string                  // substrings of the error
	}{
		{"truncated data", func(t *testing.T) string {
			dir := copyFixture(t, fixture, true)
			p := filepath.Join(dir, WeightsFileName)
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()-100); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"truncated", WeightsFileName}},
		{"offsets out of range", func(t *testing.T) string {
			dir := copyFixture(t, fixture, true)
			rewriteHeader(t, filepath.Join(dir, WeightsFileName), func(h map[string]any) {
				e := h[victim].(map[string]any)
				off := e["data_offsets"].([]any)
				size := off[1].(float64) - off[0].(float64)
				e["data_offsets"] = []float64{1e9, 1e9 + size}
			})
			return dir
		}, []string{victim, "out of range"}},
		{"overlapping offsets", func(t *testing.T) string {
			dir := copyFixture(t, fixture, true)
			rewriteHeader(t, filepath.Join(dir, WeightsFileName), func(h map[string]any) {
				// Make the final norm [64] point into the embeddings' bytes.
				h[FinalNormName].(map[string]any)["data_offsets"] = []int{0, 256}
			})
			return dir
		}, []string{"overlap"}},
		{"bad JSON header", func(t *testing.T) string {
			dir := copyFixture(t, fixture, true)
			p := filepath.Join(dir, WeightsFileName)
			data, _ := os.ReadFile(p)
			copy(data[8:], `{"model.embed_tokens.weight": [`)
			os.WriteFile(p, data, 0o644)
			return dir
		}, []string{"bad JSON header", WeightsFileName}},
		{"dtype mismatch", func(t *testing.T) string {
			dir := copyFixture(t, fixture, true)
			rewriteHeader(t, filepath.Join(dir, WeightsFileName), func(h map[string]any) {
				h[victim].(map[string]any)["dtype"] = "I32" // same size as F32: the file itself is valid
			})
			return dir
		}, []string{victim, "dtype I32", "dtype mismatch"}},
		{"shape mismatch with config", func(t *testing.T) string {
			dir := copyFixture(t, fixture, true)
			rewriteHeader(t, filepath.Join(dir, WeightsFileName), func(h map[string]any) {
				h[victim].(map[string]any)["shape"] = []int{64, 176} // transposed: same bytes
			})
			return dir
		}, []string{victim, "[64 176]", "[176 64]", "shape mismatch"}},
		{"config disagrees with weights", func(t *testing.T) string {
			dir := copyFixture(t, fixture, true)
			data, _ := os.ReadFile(filepath.Join(dir, ConfigFileName))
			data = []byte(strings.Replace(string(data), `"intermediate_size": 176`, `"intermediate_size": 160`, 1))
			os.WriteFile(filepath.Join(dir, ConfigFileName), data, 0o644)
			return dir
		}, []string{"model.layers.0.mlp.down_proj.weight", "shape mismatch", "[64 160]"}},
		{"missing tensor", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			ts := fixtureTensors(t, fixture)
			ts = slices.DeleteFunc(ts, func(nt safetensors.NamedTensor) bool { return nt.Name == victim })
			writeWeights(t, dir, ts)
			return dir
		}, []string{"missing 1 tensor", victim}},
		{"unexpected tensor", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			ts := fixtureTensors(t, fixture)
			ts = append(ts, safetensors.NamedTensor{Name: "model.layers.2.mlp.up_proj.weight", T: ts[0].T})
			writeWeights(t, dir, ts)
			return dir
		}, []string{"unexpected", "model.layers.2.mlp.up_proj.weight"}},
		{"lm_head missing in untied model", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			ts := slices.DeleteFunc(fixtureTensors(t, fixture), func(nt safetensors.NamedTensor) bool { return nt.Name == LMHeadName })
			writeWeights(t, dir, ts)
			return dir
		}, []string{"missing", LMHeadName}},
		{"no weights", func(t *testing.T) string { return copyFixture(t, fixture, false) },
			[]string{WeightsFileName, IndexFileName}},
		{"shard escaping the folder", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			writeIndex(t, dir, map[string]string{EmbedTokensName: "../x.safetensors"})
			return dir
		}, []string{"../x.safetensors", "escapes the model folder", EmbedTokensName}},
		{"absolute shard path", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			writeIndex(t, dir, map[string]string{EmbedTokensName: "/etc/passwd"})
			return dir
		}, []string{"/etc/passwd", "escapes the model folder"}},
		{"bad index JSON", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			os.WriteFile(filepath.Join(dir, IndexFileName), []byte(`{"weight_map": [`), 0o644)
			return dir
		}, []string{IndexFileName, "invalid index JSON"}},
		{"missing shard file", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			writeIndex(t, dir, map[string]string{EmbedTokensName: "model-00001-of-00002.safetensors"})
			return dir
		}, []string{"model-00001-of-00002.safetensors", "no such file"}},
		{"index maps a tensor to the wrong shard", func(t *testing.T) string {
			dir := copyFixture(t, fixture, false)
			ts := fixtureTensors(t, fixture)
			half := len(ts) / 2
			wm := map[string]string{}
			for i, nt := range ts {
				shard := "model-00001-of-00002.safetensors"
				if i >= half {
					shard = "model-00002-of-00002.safetensors"
				}
				wm[nt.Name] = shard
			}
			if err := safetensors.Write(filepath.Join(dir, "model-00001-of-00002.safetensors"), ts[:half], nil); err != nil {
				t.Fatal(err)
			}
			if err := safetensors.Write(filepath.Join(dir, "model-00002-of-00002.safetensors"), ts[half:], nil); err != nil {
				t.Fatal(err)
			}
			wm[ts[0].Name] = "model-00002-of-00002.safetensors"
			writeIndex(t, dir, wm)
			return dir
		}, []string{LMHeadName /* first name in sorted order */, "maps it to model-00002-of-00002.safetensors"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.build(t)
			_, err := LoadModel(dir, dtypes.Float32)
			if err == nil {
				t.Fatal("LoadModel accepted a broken checkpoint")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestCheckpointTiedLMHeadIgnored: a tied checkpoint that stores
// lm_head.weight anyway loads (transformers ignores it too).
func TestCheckpointTiedLMHeadIgnored(t *testing.T) {
	const fixture = "dev-qwen2-bias"
	dir := copyFixture(t, fixture, false)
	ts := fixtureTensors(t, fixture)
	for _, nt := range ts {
		if nt.Name == EmbedTokensName {
			ts = append(ts, safetensors.NamedTensor{Name: LMHeadName, T: nt.T})
			break
		}
	}
	if err := safetensors.Write(filepath.Join(dir, WeightsFileName), ts, nil); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(dir, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Weights[LMHeadName]; ok {
		t.Errorf("tied model kept lm_head.weight")
	}
}

// loadMemoryConfig is a ~6.3M-parameter model (25 MB in float32).
var loadMemoryConfig = &Config{ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: 4096, Hidden: 256,
	FFN: 1024, NumLayers: 4, NumHeads: 4, NumKVHeads: 2, HeadDim: 64, MaxPositions: 512, RMSNormEps: 1e-5,
	HiddenAct: "silu", RopeTheta: 1e4, Rope: RopeScaling{Type: "default"}, TorchDType: "bfloat16", InitializerRange: 0.02}

// maxLoadAllocRatio bounds the Go heap LoadModel allocates relative to the
// converted model: the file is mmapped, not read, so ~1× (plus small overhead).
const maxLoadAllocRatio = 1.1

// TestCheckpointLoadMemory checks that loading allocates about one copy of
// the model (the converted tensors), never the file contents on top of it.
func TestCheckpointLoadMemory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	if err := SaveModel(dir, mustInitWeights(t, loadMemoryConfig), SaveOptions{ShardBytes: 4 << 20}); err != nil { // bf16, ~3 shards
		t.Fatal(err)
	}
	modelBytes := float64(loadMemoryConfig.WeightBytes(dtypes.Float32))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := LoadModel(dir, dtypes.Float32)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := float64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("model %.1f MB float32, LoadModel allocated %.1f MB (%.3f×)", modelBytes/1e6, allocated/1e6, allocated/modelBytes)
	if allocated > maxLoadAllocRatio*modelBytes {
		t.Errorf("LoadModel allocated %.0f bytes for a %.0f-byte model (> %.1f×)", allocated, modelBytes, maxLoadAllocRatio)
	}
	runtime.KeepAlive(m)
}

// BenchmarkLoadModel measures load throughput (bf16 on disk → float32).
func BenchmarkLoadModel(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "m")
	if err := SaveModel(dir, mustInitWeights(b, loadMemoryConfig), SaveOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(loadMemoryConfig.WeightBytes(dtypes.Float32))
	for b.Loop() {
		if _, err := LoadModel(dir, dtypes.Float32); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveModel measures save throughput (float32 → bf16 on disk).
func BenchmarkSaveModel(b *testing.B) {
	m := mustInitWeights(b, loadMemoryConfig)
	root := b.TempDir()
	b.SetBytes(loadMemoryConfig.WeightBytes(dtypes.Float32))
	i := 0
	for b.Loop() {
		i++
		if err := SaveModel(filepath.Join(root, fmt.Sprint(i)), m, SaveOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
