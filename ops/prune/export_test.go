package prune

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gomlx/compute/dtypes"
)

// dirHashes returns the sha256 of every file in dir.
func dirHashes(t testing.TB, dir string) map[string][32]byte {
	t.Helper()
	h := map[string][32]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h[e.Name()] = sha256.Sum256(data)
	}
	return h
}

// TestExportReloads: an export reloads with llm.LoadModel in its dtype and
// gives bit-identical logits; config.json has the explicit head_dim; the
// lineage records the kept indices; the source folder is untouched.
func TestExportReloads(t *testing.T) {
	b := testBackend(t)
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			before := dirHashes(t, f.dir)
			cfg := f.m.Config
			plan := Plan{Hidden: cfg.Hidden / 2, FFN: cfg.FFN / 2, HeadsPerGroup: 1, Layers: cfg.NumLayers - 1}
			pr, err := Apply(f.m, plan, f.imp)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "pruned")
			lin := NewLineage(f.dir, filepath.Join(f.dir, "reference_importance.json"), cfg, plan, pr)
			if err := Export(out, pr, lin, llm.SaveOptions{}); err != nil {
				t.Fatal(err)
			}
			back, err := llm.LoadModel(out, StorageDType(pr.Model.Config))
			if err != nil {
				t.Fatal(err)
			}
			if d := relDiff(t, logits(t, b, back, f.ids, nil), logits(t, b, pr.Model, f.ids, nil)); d != 0 {
				t.Errorf("reloaded export changed the logits by %.3g", d)
			}
			for n, w := range back.Weights {
				if w.DType() != f.m.Weights[n].DType() && f.m.Weights[n] != nil {
					t.Errorf("tensor %s reloaded as %s, source was %s", n, w.DType(), f.m.Weights[n].DType())
				}
			}
			var raw map[string]any
			data, err := os.ReadFile(filepath.Join(out, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			want := map[string]float64{"head_dim": float64(cfg.HeadDim), "hidden_size": float64(cfg.Hidden / 2),
				"intermediate_size": float64(cfg.FFN / 2), "num_attention_heads": float64(cfg.NumKVHeads),
				"num_key_value_heads": float64(cfg.NumKVHeads), "num_hidden_layers": float64(cfg.NumLayers - 1)}
			for k, v := range want {
				if raw[k] != v {
					t.Errorf("config.json %s = %v, want %v", k, raw[k], v)
				}
			}
			if lt, ok := raw["layer_types"].([]any); ok && len(lt) != cfg.NumLayers-1 {
				t.Errorf("config.json layer_types has %d entries for %d layers", len(lt), cfg.NumLayers-1)
			}
			var got Lineage
			data, err = os.ReadFile(filepath.Join(out, LineageFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Kept.Hidden, pr.Kept.Hidden) || len(got.Kept.FFN) != cfg.NumLayers-1 || got.ParamsAfter >= got.ParamsBefore ||
				got.To.Hidden != cfg.Hidden/2 || got.Resolved.HeadsPerGroup != 1 {
				t.Errorf("lineage %s", data)
			}
			if _, err := os.Stat(filepath.Join(out, "generation_config.json")); err != nil {
				t.Errorf("generation_config.json not copied: %v", err)
			}
			if after := dirHashes(t, f.dir); len(after) != len(before) {
				t.Errorf("source folder changed: %d files, was %d", len(after), len(before))
			} else {
				for n, h := range before {
					if after[n] != h {
						t.Errorf("source file %s changed", n)
					}
				}
			}
		})
	}
}

func TestExportRefuses(t *testing.T) {
	f := loadFixture(t, "dev-qwen2-bias")
	pr, err := Apply(f.m, Plan{FFN: 64}, f.imp)
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the source, so a failing guard cannot damage testdata.
	src := t.TempDir()
	for _, n := range []string{"config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(f.dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lin := NewLineage(src, "", f.m.Config, Plan{FFN: 64}, pr)
	nonEmpty := t.TempDir()
	os.WriteFile(filepath.Join(nonEmpty, "x"), []byte("x"), 0o644)
	cases := []struct{ out, want string }{
		{src, "is inside, the input folder"},
		{filepath.Join(src, "sub"), "is inside, the input folder"},
		{nonEmpty, "not empty"},
	}
	for _, c := range cases {
		err := Export(c.out, pr, lin, llm.SaveOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Export(%s): error %v, want %q", c.out, err, c.want)
		}
	}
	// An empty existing folder is fine.
	empty := t.TempDir()
	if err := Export(empty, pr, lin, llm.SaveOptions{}); err != nil {
		t.Errorf("Export into an empty folder: %v", err)
	}
	// A chained pruning records its parent lineage.
	pr2, err := Apply(pr.Model, Plan{FFN: 32}, nil)
	if err == nil {
		t.Errorf("ffn 32 < 64 without scores accepted")
	}
	pr2, err = Apply(pr.Model, Plan{DropLayers: []int{0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lin2 := NewLineage(empty, "", pr.Model.Config, Plan{DropLayers: []int{0}}, pr2)
	if len(lin2.Parent) == 0 || !strings.Contains(string(lin2.Parent), `"kept"`) {
		t.Errorf("chained lineage has no parent record")
	}
}

// TestEstimateMatchesApply: the estimate of a plan equals the parameter count
// of the model Apply produces, and its weight bytes match the tensors.
func TestEstimateMatchesApply(t *testing.T) {
	for _, name := range fixtureNames {
		f := loadFixture(t, name)
		cfg := f.m.Config
		for _, p := range []Plan{{}, {Hidden: cfg.Hidden / 2, FFN: cfg.FFN / 3, HeadsPerGroup: 1, Layers: 1}, {DropLayers: []int{1}, FFN: 64}} {
			e, err := p.Estimate(cfg, StorageDType(cfg))
			if err != nil {
				t.Fatal(err)
			}
			pr, err := Apply(f.m, p, f.imp)
			if err != nil {
				t.Fatal(err)
			}
			var n, bytes int64
			for _, w := range pr.Model.Weights {
				n += int64(w.Size())
				bytes += w.Shape().ByteSize()
			}
			if e.Params.Total != n || e.To.Params != n || e.WeightBytes != bytes {
				t.Errorf("%s %+v: estimate %d params / %d bytes, pruned model has %d / %d", name, p, e.Params.Total, e.WeightBytes, n, bytes)
			}
			c := pr.Model.Config
			if kv := int64(2 * c.NumLayers * c.NumKVHeads * c.HeadDim * StorageDType(cfg).Size()); e.KVCacheBytesPerToken != kv {
				t.Errorf("%s %+v: KV bytes/token %d, want %d", name, p, e.KVCacheBytesPerToken, kv)
			}
		}
	}
}

// BenchmarkEstimate: a plan estimate must be cheap enough for a slider.
func BenchmarkEstimate(b *testing.B) {
	cfg, err := llm.LoadConfig(fixtureDir("dev-llama3-headdim-tied-bf16"))
	if err != nil {
		b.Fatal(err)
	}
	p := Plan{Hidden: 64, FFN: 128, HeadsPerGroup: 2, Layers: 2, Round: 16}
	for b.Loop() {
		if _, err := p.Estimate(cfg, dtypes.BFloat16); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDir runs the folder-to-folder path the CLI uses.
func TestDir(t *testing.T) {
	b := testBackend(t)
	f := loadFixture(t, "dev-llama3-headdim-tied-bf16")
	scores := filepath.Join(f.dir, "reference_importance.json")
	out := filepath.Join(t.TempDir(), "pruned")
	plan := Plan{Hidden: 64, FFN: 128, HeadsPerGroup: 2, Layers: 2}
	s, err := Dir(f.dir, scores, out, plan)
	if err != nil {
		t.Fatal(err)
	}
	if s.To.Hidden != 64 || s.To.FFN != 128 || s.To.NumHeads != 4 || s.To.NumLayers != 2 || s.To.HeadDim != 24 ||
		len(s.DroppedLayers) != 1 || s.ParamsAfter >= s.ParamsBefore || s.WeightBytes != 2*s.ParamsAfter {
		t.Errorf("summary %+v", s)
	}
	back, err := llm.LoadModel(out, dtypes.BFloat16)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := Apply(f.m, plan, f.imp)
	if err != nil {
		t.Fatal(err)
	}
	if d := relDiff(t, logits(t, b, back, f.ids, nil), logits(t, b, pr.Model, f.ids, nil)); d != 0 {
		t.Errorf("Dir export differs from Apply by %.3g", d)
	}
	// A bad plan fails before anything is written.
	bad := filepath.Join(t.TempDir(), "bad")
	if _, err := Dir(f.dir, scores, bad, Plan{HeadsPerGroup: 4}); err == nil || !strings.Contains(err.Error(), "heads-per-group 4 > current 3") {
		t.Errorf("bad plan: %v", err)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Errorf("bad plan left %s behind", bad)
	}
}
