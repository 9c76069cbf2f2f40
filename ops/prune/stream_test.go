package prune

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gominitron/gominitron/ops/llm"
)

// TestDirStreamsLikeApply: the streamed Dir writes exactly the files the
// in-memory path (LoadModel, Apply, Export) writes — weights byte for byte —
// on every model fixture and kind of plan (pruning.json compared without its
// creation time).
func TestDirStreamsLikeApply(t *testing.T) {
	plans := []struct {
		name string
		plan Plan
	}{
		{"width and depth", Plan{Hidden: 64, FFN: 128, HeadsPerGroup: 2, Layers: 2}},
		{"drop layers", Plan{DropLayers: []int{1}}},
		{"no-op", Plan{}},
	}
	for _, name := range []string{"dev-llama3-headdim-tied-bf16", "dev-llama-gqa", "dev-qwen2-bias"} {
		f := loadFixture(t, name)
		source, err := filepath.Abs(f.dir) // Dir records absolute paths
		if err != nil {
			t.Fatal(err)
		}
		scores := filepath.Join(source, "reference_importance.json")
		for _, tc := range plans {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				if err := tc.plan.Validate(f.m.Config, f.imp); err != nil {
					t.Skipf("plan does not apply to this fixture: %v", err)
				}
				// Both paths also report progress: once per tensor, in order.
				var streamedCalls, inMemoryCalls []int
				record := func(calls *[]int) func(done, total int) {
					return func(done, total int) { *calls = append(*calls, done, total) }
				}
				streamed := filepath.Join(t.TempDir(), "streamed")
				if _, err := Dir(f.dir, scores, streamed, tc.plan, WithProgress(record(&streamedCalls))); err != nil {
					t.Fatal(err)
				}
				inMemory := filepath.Join(t.TempDir(), "in-memory")
				pr, err := Apply(f.m, tc.plan, f.imp)
				if err != nil {
					t.Fatal(err)
				}
				if err := Export(inMemory, pr, NewLineage(source, scores, f.m.Config, tc.plan, pr), llm.SaveOptions{Progress: record(&inMemoryCalls)}); err != nil {
					t.Fatal(err)
				}
				compareFolders(t, streamed, inMemory)
				n := len(pr.Model.Config.TensorNames())
				var want []int
				for i := 1; i <= n; i++ {
					want = append(want, i, n)
				}
				if !slices.Equal(streamedCalls, want) || !slices.Equal(inMemoryCalls, want) {
					t.Errorf("progress calls (done, total): streamed %v, in memory %v, want %v", streamedCalls, inMemoryCalls, want)
				}
			})
		}
	}
}

// compareFolders checks that folders a and b hold the same files with the
// same bytes (pruning.json: the same JSON but for "created").
func compareFolders(t *testing.T, a, b string) {
	t.Helper()
	ea, _ := os.ReadDir(a)
	eb, _ := os.ReadDir(b)
	if len(ea) != len(eb) || len(ea) == 0 {
		t.Fatalf("%s has %d files, %s has %d", a, len(ea), b, len(eb))
	}
	for _, e := range ea {
		da, _ := os.ReadFile(filepath.Join(a, e.Name()))
		db, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if e.Name() == LineageFile {
			da, db = withoutCreated(t, da), withoutCreated(t, db)
		}
		if !bytes.Equal(da, db) {
			t.Errorf("%s differs between the streamed and the in-memory export", e.Name())
		}
	}
}

func withoutCreated(t *testing.T, data []byte) []byte {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	delete(v, "created")
	out, _ := json.Marshal(v)
	return out
}
