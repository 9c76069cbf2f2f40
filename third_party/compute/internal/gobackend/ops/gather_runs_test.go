package ops_test

import (
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/internal/gobackend/ops"
)

// TestGatherRuns (gominitron patch): Gather executed by the Go backend, whose contiguous
// innermost slice axis is copied as one run, against the definition: embedding-style lookups
// (rows of an [V, D] table, indices clamped to the table) with the slice axis last in the output
// (the run path), partial rows (slice narrower than the table), and the offset axis first in the
// output (element by element).
func TestGatherRuns(t *testing.T) {
	const vocab, dim = 7, 5
	table := make([]float32, vocab*dim)
	for i := range table {
		table[i] = float32(i)
	}
	ids := []int32{3, 0, 6, 9, -2, 3} // 9 and -2 clamp to 6 and 0
	clamp := func(i int32, sliceLen int) int { return max(0, min(int(i), vocab-1)) }
	for _, tc := range []struct {
		name        string
		sliceLen    int
		offsetFirst bool // output [sliceLen, len(ids)] instead of [len(ids), sliceLen]
	}{
		{"rows", dim, false},
		{"partial rows", dim - 2, false},
		{"offset axis first", dim, true},
	} {
		builder := backend.Builder("gather_" + tc.name)
		f := builder.Main().(*gobackend.Function)
		operand, err := f.Constant(table, vocab, dim)
		if err != nil {
			t.Fatal(err)
		}
		indices, err := f.Constant(ids, len(ids), 1)
		if err != nil {
			t.Fatal(err)
		}
		offsetAxis := 1
		if tc.offsetFirst {
			offsetAxis = 0
		}
		out, err := ops.Gather(f, operand, indices, 1, []int{offsetAxis}, []int{0}, []int{0}, []int{1, tc.sliceLen}, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Return([]compute.Value{out}, nil); err != nil {
			t.Fatal(err)
		}
		exec, err := builder.Compile()
		if err != nil {
			t.Fatal(err)
		}
		outputs, err := exec.Execute(nil, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := outputs[0].(*gobackend.Buffer).Flat.([]float32)
		for n, id := range ids {
			for d := range tc.sliceLen {
				want := table[clamp(id, tc.sliceLen)*dim+d]
				idx := n*tc.sliceLen + d
				if tc.offsetFirst {
					idx = d*len(ids) + n
				}
				if got[idx] != want {
					t.Fatalf("%s: out for id #%d (%d), column %d = %g, want %g", tc.name, n, id, d, got[idx], want)
				}
			}
		}
	}
}
