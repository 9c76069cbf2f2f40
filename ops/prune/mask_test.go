package prune

import (
	"slices"
	"testing"

	"github.com/gominitron/gominitron/results"
	"github.com/gomlx/gomlx/core/tensors"
)

func TestMaskedViewContents(t *testing.T) {
	cfg := tinyConfig()
	imp := &results.Importance{
		Hidden:        []float64{5, 0, 4, 1, 3, 2},
		FFN:           [][]float64{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {0, 9, 0, 9, 0}},
		Heads:         [][]float64{{1, 2, 3, 4}, {4, 3, 2, 1}, {1, 0, 0, 1}},
		DropOneLMLoss: []float64{3, 1, 2},
	}
	m, err := MaskedView(cfg, Plan{Hidden: 3, FFN: 3, HeadsPerGroup: 1, Layers: 2}, imp)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.SkipLayers, []bool{false, true, false}) {
		t.Errorf("SkipLayers %v", m.SkipLayers)
	}
	if got := tensors.MustCopyFlatData[float32](m.Hidden); !slices.Equal(got, []float32{1, 0, 1, 0, 1, 0}) {
		t.Errorf("hidden mask %v", got)
	}
	wantFFN := []float32{0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0}
	if got := tensors.MustCopyFlatData[float32](m.FFN); !slices.Equal(got, wantFFN) || !slices.Equal(m.FFN.Shape().Dimensions, []int{3, 5}) {
		t.Errorf("ffn mask %v %v, want %v", m.FFN.Shape(), got, wantFFN)
	}
	wantHeads := []float32{0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1}
	if got := tensors.MustCopyFlatData[float32](m.Heads); !slices.Equal(got, wantHeads) {
		t.Errorf("head mask %v, want %v", got, wantHeads)
	}
	// Axes the plan does not cut have no mask.
	m, err = MaskedView(cfg, Plan{FFN: 4}, imp)
	if err != nil {
		t.Fatal(err)
	}
	if m.Hidden != nil || m.Heads != nil || m.SkipLayers != nil || m.FFN == nil {
		t.Errorf("uncut axes got masks: %+v", m)
	}
}

func TestMasksDense(t *testing.T) {
	cfg := tinyConfig()
	m, err := MaskedView(cfg, Plan{DropLayers: []int{1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Dense(cfg)
	if l := tensors.MustCopyFlatData[float32](d.Layers); !slices.Equal(l, []float32{1, 0, 1}) || d.SkipLayers != nil || m.Layers != nil {
		t.Fatalf("dense layer mask %v, SkipLayers %v", l, d.SkipLayers)
	}
	if m.FFN != nil || !slices.Equal(d.FFN.Shape().Dimensions, []int{3, 5}) ||
		!slices.Equal(d.Heads.Shape().Dimensions, []int{3, 4}) || d.Hidden.Shape().Dimensions[0] != 6 {
		t.Fatalf("dense masks %+v", d)
	}
	for _, x := range tensors.MustCopyFlatData[float32](d.Heads) {
		if x != 1 {
			t.Fatalf("dense head mask not all ones")
		}
	}
}
