package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fileio"
)

// NamedTensor is one tensor to write: T, or — when T is nil — Produce,
// called when the tensor's turn to be written comes, after the header. Shape
// (dtype and dimensions of what Produce returns) describes it for the
// header. A produced tensor is released once written, so a file of produced
// tensors is written holding one tensor at a time (streamed pruning).
type NamedTensor struct {
	Name    string
	T       *tensors.Tensor
	Produce func() (*tensors.Tensor, error)
	Shape   shapes.Shape
}

// TensorShape is the shape of the tensor nt writes: T's, else Shape.
func (nt NamedTensor) TensorShape() shapes.Shape {
	if nt.T != nil {
		return nt.T.Shape()
	}
	return nt.Shape
}

// convertChunkElems is how many elements WriteAs converts per write call.
const convertChunkElems = 1 << 20

// Write writes ts (in the given order) and metadata to path atomically: the
// file appears complete under its name or not at all.
func Write(path string, ts []NamedTensor, metadata map[string]string) error {
	return WriteAs(path, ts, dtypes.InvalidDType, metadata)
}

// WriteAs is Write with every floating-point tensor stored as floatDType
// (e.g. dtypes.BFloat16), converted on the fly one chunk at a time (no copy of
// the whole tensor set is made). Integer/bool tensors keep their dtype.
// floatDType dtypes.InvalidDType keeps every tensor's own dtype.
func WriteAs(path string, ts []NamedTensor, floatDType dtypes.DType, metadata map[string]string) error {
	var storeFloat DType
	if floatDType != dtypes.InvalidDType {
		storeFloat = FromGoMLX(floatDType)
		if !storeFloat.IsFloat() {
			return fmt.Errorf("safetensors: %s: output dtype %s is not a floating-point dtype", path, floatDType)
		}
	}
	type plan struct {
		src, dst DType
		info     TensorInfo
		nt       NamedTensor
	}
	plans := make([]plan, 0, len(ts))
	header := make(map[string]any, len(ts)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, nt := range ts {
		if nt.Name == "" || nt.Name == "__metadata__" {
			return fmt.Errorf("safetensors: %s: invalid tensor name %q", path, nt.Name)
		}
		if _, dup := header[nt.Name]; dup {
			return fmt.Errorf("safetensors: %s: tensor %q given twice", path, nt.Name)
		}
		if nt.T == nil && (nt.Produce == nil || !nt.Shape.Ok()) {
			return fmt.Errorf("safetensors: %s: tensor %q is nil", path, nt.Name)
		}
		shape := nt.TensorShape()
		src := FromGoMLX(shape.DType)
		if src == unknown {
			return fmt.Errorf("safetensors: %s: tensor %q: GoMLX dtype %s has no safetensors equivalent", path, nt.Name, shape.DType)
		}
		dst := src
		if storeFloat != unknown && src.IsFloat() {
			dst = storeFloat
		}
		dims := shape.Dimensions
		ti := TensorInfo{Name: nt.Name, DType: dst, Shape: append([]int{}, dims...), Begin: offset}
		ti.End = offset + ti.NumElements()*int64(dst.Size())
		offset = ti.End
		plans = append(plans, plan{src: src, dst: dst, info: ti, nt: nt})
		header[nt.Name] = map[string]any{"dtype": dst, "shape": ti.Shape, "data_offsets": []int64{ti.Begin, ti.End}}
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: %s: encoding header: %w", path, err)
	}
	for len(hdr)%8 != 0 { // align the data section, as the reference writer does
		hdr = append(hdr, ' ')
	}
	err = fileio.WriteStream(path, func(w io.Writer) error {
		var lenBuf [headerLenBytes]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		for _, p := range plans {
			if p.info.End == p.info.Begin {
				continue // zero elements: nothing to write
			}
			if err := writeTensor(w, p.nt, p.info, p.dst, p.src); err != nil {
				return fmt.Errorf("tensor %q: %w", p.info.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// writeTensor writes nt's data (produced now when nt.T is nil, and released
// after) as dst.
func writeTensor(w io.Writer, nt NamedTensor, info TensorInfo, dst, src DType) error {
	t := nt.T
	if t == nil {
		var err error
		if t, err = nt.Produce(); err != nil {
			return err
		}
		defer t.FinalizeAll()
		if !slices.Equal(t.Shape().Dimensions, info.Shape) || t.DType() != nt.Shape.DType {
			return fmt.Errorf("produced %s, header says %s", t.Shape(), nt.Shape)
		}
	}
	var werr error
	if err := t.ConstBytes(func(data []byte) { werr = writeConverted(w, dst, data, src) }); err != nil {
		return err
	}
	return werr
}

// writeConverted writes src (elements of srcType) as dstType, chunk by chunk.
func writeConverted(w io.Writer, dstType DType, src []byte, srcType DType) error {
	if dstType == srcType {
		_, err := w.Write(src)
		return err
	}
	ss, ds := srcType.Size(), dstType.Size()
	buf := make([]byte, min(len(src)/ss, convertChunkElems)*ds)
	for len(src) > 0 {
		n := min(len(src)/ss, convertChunkElems)
		if err := ConvertBytes(buf[:n*ds], dstType, src[:n*ss], srcType); err != nil {
			return err
		}
		if _, err := w.Write(buf[:n*ds]); err != nil {
			return err
		}
		src = src[n*ss:]
	}
	return nil
}
