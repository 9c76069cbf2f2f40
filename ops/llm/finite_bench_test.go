package llm

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// BenchmarkFirstNonFinite measures the load-time scan on a finite 64 Mi-element
// tensor per dtype (bytes/s is the scan rate; an 8B bfloat16 model is 16 GB).
func BenchmarkFirstNonFinite(b *testing.B) {
	const elems = 64 << 20
	for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.BFloat16} {
		b.Run(dt.String(), func(b *testing.B) {
			t := tensors.FromShape(shapes.Make(dt, elems)) // zeros: finite
			b.SetBytes(int64(elems * dt.Size()))
			for b.Loop() {
				if i, err := FirstNonFinite(t); err != nil || i != -1 {
					b.Fatal(i, err)
				}
			}
		})
	}
}
