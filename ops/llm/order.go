package llm

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // graph-building code reads better with dot import
)

// ZeroAfter is a scalar 0 of dtype computed from node (from its first
// element; 0 also when that element is NaN or ±Inf), with no gradient. Adding
// it to a node makes that node wait for node without changing its value: a
// scheduler cannot start a chunk of work before the previous chunk is done
// (the chunked logits, the chunked weight conversion, distillation's chunked
// losses), and the backend cannot merge two otherwise identical chunks.
func ZeroAfter(node *Node, dtype dtypes.DType) *Node {
	e := node
	for axis := range e.Rank() {
		e = SliceAxis(e, axis, AxisElem(0))
	}
	if e.Rank() > 0 {
		e = Reshape(e) // [1, …, 1] → scalar
	}
	return StopGradient(MulScalar(ConvertDType(Equal(e, e), dtype), 0))
}
