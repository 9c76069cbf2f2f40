package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Tensor returns a host tensor holding a copy of the named tensor converted to
// dtype. Floating dtypes (F64, F32, BF16, F16) convert among themselves (to
// float32, bfloat16, float16 or float64); integer dtypes convert among
// themselves (values out of the target's range are an error). dtype
// dtypes.InvalidDType keeps the stored dtype.
func (f *File) Tensor(name string, dtype dtypes.DType) (*tensors.Tensor, error) {
	src, err := f.Bytes(name)
	if err != nil {
		return nil, err
	}
	ti := f.infos[name]
	if dtype == dtypes.InvalidDType {
		dtype = ti.DType.GoMLX()
		if dtype == dtypes.InvalidDType {
			return nil, fmt.Errorf("safetensors: %s: tensor %q: dtype %s has no GoMLX equivalent", f.path, name, ti.DType)
		}
	}
	if FromGoMLX(dtype) == unknown {
		return nil, fmt.Errorf("safetensors: %s: tensor %q: cannot convert to GoMLX dtype %s", f.path, name, dtype)
	}
	t := tensors.FromShape(shapes.Make(dtype, ti.Shape...))
	if err := f.convertInto(name, src, t); err != nil {
		return nil, err
	}
	return t, nil
}

// TensorInto converts the named tensor into t, whose dimensions must equal
// the stored ones and whose dtype is the target (as Tensor's dtype). t may
// be a backend's shared buffer (tensors.FromShapeForBackend), so a weight
// goes from the mapped file to the device's memory with no host copy between.
func (f *File) TensorInto(name string, t *tensors.Tensor) error {
	src, err := f.Bytes(name)
	if err != nil {
		return err
	}
	ti := f.infos[name]
	if got := t.Shape().Dimensions; !slices.Equal(got, ti.Shape) {
		return fmt.Errorf("safetensors: %s: tensor %q has dimensions %v, the destination %v", f.path, name, ti.Shape, got)
	}
	if FromGoMLX(t.DType()) == unknown {
		return fmt.Errorf("safetensors: %s: tensor %q: cannot convert to GoMLX dtype %s", f.path, name, t.DType())
	}
	return f.convertInto(name, src, t)
}

// convertInto converts src (the named tensor's stored bytes) into t.
func (f *File) convertInto(name string, src []byte, t *tensors.Tensor) error {
	if t.Size() == 0 {
		return nil
	}
	var err error
	if mutErr := t.MutableBytes(func(out []byte) {
		err = ConvertBytes(out, FromGoMLX(t.DType()), src, f.infos[name].DType)
	}); mutErr != nil {
		return fmt.Errorf("safetensors: %s: tensor %q: %w", f.path, name, mutErr)
	}
	if err != nil {
		return fmt.Errorf("safetensors: %s: tensor %q: %w", f.path, name, err)
	}
	return nil
}

// ConvertBytes converts little-endian elements of srcType in src to dstType in
// dst (len(dst)/dstType.Size() must equal len(src)/srcType.Size()). Floats
// convert to floats (round to nearest even), integers to integers (range
// checked); identical dtypes are copied.
func ConvertBytes(dst []byte, dstType DType, src []byte, srcType DType) error {
	if !srcType.Known() || !dstType.Known() {
		return fmt.Errorf("unknown dtype in conversion %s → %s", srcType, dstType)
	}
	n := len(src) / srcType.Size()
	if len(src)%srcType.Size() != 0 || len(dst) != n*dstType.Size() {
		return fmt.Errorf("conversion %s → %s: %d source bytes do not match %d destination bytes", srcType, dstType, len(src), len(dst))
	}
	switch {
	case srcType == dstType:
		copy(dst, src)
		return nil
	case srcType.IsFloat() && dstType.IsFloat():
		return convertFloats(dst, dstType, src, srcType, n)
	case dtypeTable[srcType].int && dtypeTable[dstType].int:
		return convertInts(dst, dstType, src, srcType, n)
	}
	return fmt.Errorf("cannot convert %s to %s (only float↔float and int↔int conversions are supported)", srcType, dstType)
}

func convertFloats(dst []byte, dstType DType, src []byte, srcType DType, n int) error {
	// Fast paths for the conversions model loading does.
	le := binary.LittleEndian
	switch {
	case srcType == BF16 && dstType == F32:
		for i := range n {
			le.PutUint32(dst[4*i:], uint32(le.Uint16(src[2*i:]))<<16)
		}
		return nil
	case srcType == F32 && dstType == BF16:
		for i := range n {
			le.PutUint16(dst[2*i:], uint16(bfloat16.FromFloat32(math.Float32frombits(le.Uint32(src[4*i:])))))
		}
		return nil
	case srcType == F16 && dstType == F32:
		for i := range n {
			le.PutUint32(dst[4*i:], math.Float32bits(float16.Float16(le.Uint16(src[2*i:])).Float32()))
		}
		return nil
	}
	for i := range n {
		putFloat(dst, dstType, i, getFloat(src, srcType, i))
	}
	return nil
}

// getFloat reads element i of a float dtype as float64 (exact for all of them).
func getFloat(b []byte, dt DType, i int) float64 {
	le := binary.LittleEndian
	switch dt {
	case F64:
		return math.Float64frombits(le.Uint64(b[8*i:]))
	case F32:
		return float64(math.Float32frombits(le.Uint32(b[4*i:])))
	case BF16:
		return float64(bfloat16.BFloat16(le.Uint16(b[2*i:])).Float32())
	case F16:
		return float64(float16.Float16(le.Uint16(b[2*i:])).Float32())
	}
	panic("getFloat: not a float dtype " + string(dt))
}

// putFloat writes element i of a float dtype. Narrowing to 16 bits goes through
// float32 (double rounding from F64 is accepted).
func putFloat(b []byte, dt DType, i int, v float64) {
	le := binary.LittleEndian
	switch dt {
	case F64:
		le.PutUint64(b[8*i:], math.Float64bits(v))
	case F32:
		le.PutUint32(b[4*i:], math.Float32bits(float32(v)))
	case BF16:
		le.PutUint16(b[2*i:], uint16(bfloat16.FromFloat32(float32(v))))
	case F16:
		le.PutUint16(b[2*i:], uint16(float16.FromFloat32(float32(v))))
	default:
		panic("putFloat: not a float dtype " + string(dt))
	}
}

// intRange is the inclusive range of each integer dtype, as int64 bounds
// (U64 values above MaxInt64 are rejected by getInt).
var intRange = map[DType][2]int64{
	I8: {math.MinInt8, math.MaxInt8}, U8: {0, math.MaxUint8},
	I16: {math.MinInt16, math.MaxInt16}, U16: {0, math.MaxUint16},
	I32: {math.MinInt32, math.MaxInt32}, U32: {0, math.MaxUint32},
	I64: {math.MinInt64, math.MaxInt64}, U64: {0, math.MaxInt64},
}

func convertInts(dst []byte, dstType DType, src []byte, srcType DType, n int) error {
	le := binary.LittleEndian
	lim := intRange[dstType]
	for i := range n {
		var v int64
		switch srcType {
		case I8:
			v = int64(int8(src[i]))
		case U8:
			v = int64(src[i])
		case I16:
			v = int64(int16(le.Uint16(src[2*i:])))
		case U16:
			v = int64(le.Uint16(src[2*i:]))
		case I32:
			v = int64(int32(le.Uint32(src[4*i:])))
		case U32:
			v = int64(le.Uint32(src[4*i:]))
		case I64:
			v = int64(le.Uint64(src[8*i:]))
		case U64:
			u := le.Uint64(src[8*i:])
			if u > math.MaxInt64 {
				return fmt.Errorf("element %d (%d) does not fit in %s", i, u, dstType)
			}
			v = int64(u)
		}
		if v < lim[0] || v > lim[1] {
			return fmt.Errorf("element %d (%d) does not fit in %s", i, v, dstType)
		}
		switch dstType.Size() {
		case 1:
			dst[i] = byte(v)
		case 2:
			le.PutUint16(dst[2*i:], uint16(v))
		case 4:
			le.PutUint32(dst[4*i:], uint32(v))
		case 8:
			le.PutUint64(dst[8*i:], uint64(v))
		}
	}
	return nil
}
