package llm

import (
	"fmt"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestRunnerForwardMatchesHuggingFace: the store-backed Runner gives the
// reference logits and hidden states (float32 host tensors).
func TestRunnerForwardMatchesHuggingFace(t *testing.T) {
	forEachFixture(t, func(t *testing.T, _ compute.Backend, f *fixture) {
		r := fixtureRunner(t, f)
		out, err := r.Forward(f.ref["input_ids"], nil)
		if err != nil {
			t.Fatal(err)
		}
		fixtures.CompareToReference(t, "logits", out.Logits, f.ref["logits"], relTolerance, Argmax)
		fixtures.CompareToReference(t, "last_layer_output_raw", out.LastLayerRaw, f.ref["last_layer_output_raw"], relTolerance, nil)
		if len(out.Hidden) != f.cfg.NumLayers+1 {
			t.Fatalf("%d hidden states, want %d", len(out.Hidden), f.cfg.NumLayers+1)
		}
		for l, h := range out.Hidden {
			key := fmt.Sprintf("hidden_states.%d", l)
			fixtures.CompareToReference(t, key, h, f.ref[key], relTolerance, nil)
		}
	})
}

// TestRunnerLogitsRaggedAndErrors: ragged rows are right-padded (valid
// positions equal the row alone); bad inputs give errors.
func TestRunnerLogitsRaggedAndErrors(t *testing.T) {
	f := loadFixture(t, "dev-qwen2-bias")
	r := fixtureRunner(t, f)
	all := tensors.MustCopyFlatData[int32](f.ref["input_ids"])
	long, short := all[:12], all[32:37]
	batch, err := r.Logits([][]int32{long, short})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := r.Logits([][]int32{short})
	if err != nil {
		t.Fatal(err)
	}
	vocab := f.cfg.VocabSize
	row1 := tensors.MustCopyFlatData[float32](batch)[12*vocab : 12*vocab+len(short)*vocab]
	checkClose(t, "ragged row", tensors.FromFlatDataAndDimensions(row1, len(row1)), alone)

	for _, bad := range [][][]int32{nil, {{}}, {{1, -1}}, {{int32(vocab)}}} {
		if _, err := r.Logits(bad); err == nil {
			t.Errorf("Logits(%v): no error", bad)
		}
	}
	if _, err := r.Forward(tensors.FromFlatDataAndDimensions([]float32{1, 2}, 1, 2), nil); err == nil {
		t.Errorf("Forward(float32 ids): no error")
	}
}
