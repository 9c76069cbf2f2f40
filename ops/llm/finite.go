package llm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
)

// ErrNonFinite is wrapped by every error reporting a NaN or ±Inf in weights,
// logits or a loss.
var ErrNonFinite = errors.New("non-finite value (NaN or Inf)")

// FirstNonFinite returns the flat index of the first NaN or ±Inf element of
// a float tensor (float32, float64, bfloat16 or float16), or -1 when all are
// finite. It reads the raw bits once, without converting.
func FirstNonFinite(t *tensors.Tensor) (int, error) {
	i, _, err := firstNonFinite(t)
	return i, err
}

// firstNonFinite is FirstNonFinite plus what the element is: "NaN", "+Inf" or "-Inf".
func firstNonFinite(t *tensors.Tensor) (index int, what string, err error) {
	var exp, sign uint64 // exponent bits (all set: Inf or NaN) and sign bit
	size := t.DType().Size()
	switch t.DType() {
	case dtypes.Float32:
		exp, sign = 0x7F800000, 1<<31
	case dtypes.Float64:
		exp, sign = 0x7FF0000000000000, 1<<63
	case dtypes.BFloat16:
		exp, sign = 0x7F80, 1<<15
	case dtypes.Float16:
		exp, sign = 0x7C00, 1<<15
	default:
		return -1, "", fmt.Errorf("FirstNonFinite: dtype %s is not a float dtype", t.DType())
	}
	mantissa := sign - 1 - exp
	index = -1
	err = t.ConstBytes(func(data []byte) {
		le := binary.LittleEndian
		for i := skipFiniteWords(data, size, exp); i+size <= len(data); i += size {
			var bits uint64
			switch size {
			case 2:
				bits = uint64(le.Uint16(data[i:]))
			case 4:
				bits = uint64(le.Uint32(data[i:]))
			default:
				bits = le.Uint64(data[i:])
			}
			if bits&exp != exp {
				continue
			}
			index = i / size
			switch {
			case bits&mantissa != 0:
				what = "NaN"
			case bits&sign != 0:
				what = "-Inf"
			default:
				what = "+Inf"
			}
			return
		}
	})
	return index, what, err
}

// skipFiniteWords returns the offset of the first 8-byte word of data that
// may hold an element (of size 2, 4 or 8 bytes) whose exponent bits exp are
// all set, testing every lane of a word at once; the caller scans exactly
// from there. It returns len(data) rounded down to a word when none can.
func skipFiniteWords(data []byte, size int, exp uint64) int {
	var lanes, ones, highs uint64 // exp in every lane; 1 and the top bit of every lane
	switch size {
	case 2:
		lanes, ones, highs = exp*0x0001000100010001, 0x0001000100010001, 0x8000800080008000
	case 4:
		lanes, ones, highs = exp*0x0000000100000001, 0x0000000100000001, 0x8000000080000000
	default:
		return 0
	}
	le := binary.LittleEndian
	i := 0
	for ; i+8 <= len(data); i += 8 {
		x := le.Uint64(data[i:])&lanes ^ lanes // a lane is 0 where all its exponent bits are set
		if (x-ones)&^x&highs != 0 {            // some lane is 0 (exact for "any", as the sign bit is never in x)
			return i
		}
	}
	return i
}

// CheckFinite returns an error naming the first weight (in TensorNames order)
// that holds a NaN or ±Inf, with the element's index.
func (m *Model) CheckFinite() error {
	for _, name := range m.Config.TensorNames() {
		if t := m.Weights[name]; t != nil {
			if err := checkFiniteTensor(name, t); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkFiniteTensor(name string, t *tensors.Tensor) error {
	i, what, err := firstNonFinite(t)
	if err != nil {
		return fmt.Errorf("weight %q: %w", name, err)
	}
	if i < 0 {
		return nil
	}
	return fmt.Errorf("weight %q %v: element %d is %s: %w", name, t.Shape().Dimensions, i, what, ErrNonFinite)
}

// CheckFiniteValues returns an error when values (e.g. a step's logits, in
// float32) hold a NaN or ±Inf: "WHAT: element I is NaN".
func CheckFiniteValues(what string, values []float32) error {
	for i, v := range values {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s: element %d is %g: %w", what, i, v, ErrNonFinite)
		}
	}
	return nil
}

// locateNonFinite runs rows through the model once more (Forward, float32
// outputs) and names where the activations first go non-finite: "the
// embeddings", "layer L", "the final norm" or "lm_head (every layer output is
// finite)". It returns "" when that pass fails or is finite. It is only
// called on the error path, to say where a NaN came from.
func (r *Runner) locateNonFinite(rows [][]int32) string {
	flat, mask, _, maxLen, err := r.padRows("rows", rows)
	if err != nil {
		return ""
	}
	out, err := r.Forward(tensors.FromFlatDataAndDimensions(flat, len(rows), maxLen), tensors.FromFlatDataAndDimensions(mask, len(rows), maxLen))
	if err != nil {
		return ""
	}
	defer func() {
		for _, t := range append(out.Hidden, out.LastLayerRaw, out.Logits) {
			t.FinalizeAll()
		}
	}()
	bad := func(t *tensors.Tensor) bool {
		i, err := FirstNonFinite(t)
		return err == nil && i >= 0
	}
	numLayers := len(out.Hidden) - 1
	// Hidden[l] enters layer l (Hidden[0]: the embeddings); the last layer's
	// output is LastLayerRaw; Hidden[numLayers] is after the final norm.
	for l := 0; l < numLayers; l++ {
		if bad(out.Hidden[l]) {
			if l == 0 {
				return "the embeddings"
			}
			return fmt.Sprintf("layer %d", l-1)
		}
	}
	switch {
	case bad(out.LastLayerRaw):
		return fmt.Sprintf("layer %d", numLayers-1)
	case bad(out.Hidden[numLayers]):
		return "the final norm"
	case bad(out.Logits):
		return "lm_head (every layer output is finite)"
	}
	return ""
}

// LocateNonFinite runs rows through m on backend, computing in dtype, and
// names where its activations first go non-finite ("layer 3", "the
// embeddings", "the final norm", "lm_head (…)"), or "" when they are all
// finite. Callers use it on the error path, after a NaN/Inf logit or loss,
// to say where it came from.
func LocateNonFinite(backend compute.Backend, m *Model, dtype dtypes.DType, rows [][]int32) string {
	r, err := NewRunner(backend, m)
	if err != nil {
		return ""
	}
	defer r.Close()
	return r.WithDType(dtype).locateNonFinite(rows)
}
