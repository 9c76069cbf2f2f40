package safetensors

import (
	"github.com/gomlx/compute/dtypes"
)

// DType is a tensor element type as spelled in the safetensors header.
type DType string

// Element types of the safetensors format.
const (
	BOOL    DType = "BOOL"
	U8      DType = "U8"
	I8      DType = "I8"
	F8E5M2  DType = "F8_E5M2"
	F8E4M3  DType = "F8_E4M3"
	I16     DType = "I16"
	U16     DType = "U16"
	F16     DType = "F16"
	BF16    DType = "BF16"
	I32     DType = "I32"
	U32     DType = "U32"
	F32     DType = "F32"
	F64     DType = "F64"
	I64     DType = "I64"
	U64     DType = "U64"
	unknown DType = ""
)

// dtypeInfo describes one safetensors dtype.
type dtypeInfo struct {
	size  int          // bytes per element
	gomlx dtypes.DType // GoMLX equivalent, InvalidDType if none
	float bool         // floating point
	int   bool         // integer (signed or unsigned)
}

var dtypeTable = map[DType]dtypeInfo{
	BOOL:   {1, dtypes.Bool, false, false},
	U8:     {1, dtypes.Uint8, false, true},
	I8:     {1, dtypes.Int8, false, true},
	F8E5M2: {1, dtypes.F8E5M2, false, false},
	F8E4M3: {1, dtypes.F8E4M3FN, false, false},
	I16:    {2, dtypes.Int16, false, true},
	U16:    {2, dtypes.Uint16, false, true},
	F16:    {2, dtypes.Float16, true, false},
	BF16:   {2, dtypes.BFloat16, true, false},
	I32:    {4, dtypes.Int32, false, true},
	U32:    {4, dtypes.Uint32, false, true},
	F32:    {4, dtypes.Float32, true, false},
	F64:    {8, dtypes.Float64, true, false},
	I64:    {8, dtypes.Int64, false, true},
	U64:    {8, dtypes.Uint64, false, true},
}

// Size returns the bytes per element of d, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeTable[d].size }

// Known reports whether d is a dtype this package understands.
func (d DType) Known() bool { _, ok := dtypeTable[d]; return ok }

// IsFloat reports whether d is F16, BF16, F32 or F64.
func (d DType) IsFloat() bool { return dtypeTable[d].float }

// GoMLX returns the GoMLX dtype of d (dtypes.InvalidDType if there is none).
func (d DType) GoMLX() dtypes.DType { return dtypeTable[d].gomlx }

// FromGoMLX returns the safetensors dtype for a GoMLX dtype, or "" if the
// format has none.
func FromGoMLX(dt dtypes.DType) DType {
	for name, info := range dtypeTable {
		if info.gomlx == dt && dt != dtypes.InvalidDType {
			return name
		}
	}
	return unknown
}
