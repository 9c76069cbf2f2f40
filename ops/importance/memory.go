package importance

import (
	"runtime"
	"runtime/debug"

	"github.com/gomlx/gomlx/core/tensors"
)

// releaseAboveBytes is the weight size from which releasePassBuffers
// collects: below it the pooled buffers are small and the collections would
// only cost time.
const releaseAboveBytes = 256 << 20

// releasePassBuffers returns the intermediate buffers of the pass just run
// (each layer's weights converted to the compute dtype, logits chunks,
// activations) to the operating system when the model's weights (params)
// exceed releaseAboveBytes. The Go backend keeps freed buffers in a
// sync.Pool, which survives one garbage collection: without two collections
// after each pass, the buffers of the passes before stayed resident beside
// the current pass's, and importance on a bfloat16 Qwen2.5-0.5B shape peaked
// at 1.47× the weight bytes (forward, one pass: 1.30×; measured with VmHWM:
// after one collection the process stayed ~300 MB above the weights, after
// two it was back at them). Two collections of a heap that is mostly
// pointer-free weight buffers take milliseconds, against seconds per pass.
func releasePassBuffers(params []*tensors.Tensor) {
	var bytes int64
	for _, p := range params {
		bytes += int64(p.Memory())
	}
	if bytes < releaseAboveBytes {
		return
	}
	runtime.GC()         // the pool's buffers move to its victim cache
	debug.FreeOSMemory() // a second collection frees them and returns the pages
}
