// Package safetensors reads and writes the safetensors format used by Hugging
// Face checkpoints (https://github.com/huggingface/safetensors):
//
//	[8 bytes: little-endian uint64 N] [N bytes: JSON header] [data section]
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end]} (offsets relative to the start of the data section), plus an
// optional "__metadata__" string→string map.
//
// Open memory-maps a file (so a checkpoint is never read into RAM as a whole)
// and validates the header before any data is touched: header length within
// the file and below MaxHeaderBytes, known dtypes, non-negative dims,
// end-begin == dtype size × number of elements, tensors that cover the data
// section exactly (no overlap, no gap, no trailing bytes), and data present
// (a truncated file is reported as such). Every error names the file and,
// where there is one, the tensor.
//
// File.Tensor converts one tensor to a GoMLX host tensor of the requested
// dtype (F32/F64/BF16/F16 among themselves, integer dtypes among themselves).
// ReadInputIDs reads token rows as tokenizers save them (input_ids and the
// optional attention_mask), for the forward, importance and eval inputs.
// Write / WriteAs write a file atomically (temporary file in the same folder,
// then rename), streaming one tensor at a time.
package safetensors
