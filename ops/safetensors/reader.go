package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"syscall"

	"github.com/gominitron/gominitron/internal/fileio"
)

// MaxHeaderBytes is the largest JSON header accepted (the reference
// implementation's limit).
const MaxHeaderBytes = 100_000_000

// headerLenBytes is the size of the little-endian uint64 header length prefix.
const headerLenBytes = 8

// TensorInfo is one header entry. Begin and End are byte offsets into the data
// section (End exclusive).
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
	Begin int64
	End   int64
}

// NumElements is the product of the shape's dims (1 for a scalar).
func (ti TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range ti.Shape {
		n *= int64(d)
	}
	return n
}

// File is an opened (memory-mapped) safetensors file. It is safe for
// concurrent reads; Close invalidates every slice returned by Bytes.
type File struct {
	path     string
	mapped   []byte       // whole file (mmapped), nil after Close
	unmap    func() error // unmaps mapped on Close (nil: FromBytes, nothing to unmap)
	data     []byte       // data section (a sub-slice of mapped)
	infos    map[string]TensorInfo
	names    []string // sorted
	metadata map[string]string
}

// Open memory-maps the safetensors file at path and validates its header.
func Open(path string) (*File, error) {
	fd, st, err := fileio.OpenRegular(path) // a FIFO or device is refused before opening; st is the opened file's
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer fd.Close()
	size := st.Size()
	if size < headerLenBytes {
		return nil, fmt.Errorf("safetensors: %s: file is %d bytes, too short for the 8-byte header length (truncated or not a safetensors file)", path, size)
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("safetensors: %s: file too large to map (%d bytes)", path, size)
	}
	mapped, unmap, err := fileio.MapFile(fd, size)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s: mmap: %w", path, err)
	}
	f, err := parse(path, mapped)
	if err != nil {
		_ = unmap()
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}

// FromBytes parses an in-memory safetensors file (same validation as Open).
// The File keeps a reference to buf; Close is a no-op for the memory.
func FromBytes(name string, buf []byte) (*File, error) {
	return parse(name, buf)
}

// rawEntry is a header entry as it appears in JSON.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parse validates buf (a whole safetensors file) and indexes its header.
func parse(path string, buf []byte) (*File, error) {
	if len(buf) < headerLenBytes {
		return nil, fmt.Errorf("safetensors: %s: file is %d bytes, too short for the 8-byte header length (truncated or not a safetensors file)", path, len(buf))
	}
	n := binary.LittleEndian.Uint64(buf[:headerLenBytes])
	if n > MaxHeaderBytes {
		return nil, fmt.Errorf("safetensors: %s: header length %d exceeds the %d-byte limit (corrupt or not a safetensors file)", path, n, MaxHeaderBytes)
	}
	if n > uint64(len(buf)-headerLenBytes) {
		return nil, fmt.Errorf("safetensors: %s: header length %d exceeds the %d bytes after the length prefix (truncated file)", path, n, len(buf)-headerLenBytes)
	}
	header := buf[headerLenBytes : headerLenBytes+int(n)]
	if len(header) == 0 || header[0] != '{' {
		return nil, fmt.Errorf("safetensors: %s: header is not a JSON object (bad JSON header)", path)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(header))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("safetensors: %s: bad JSON header: %v", path, err)
	}
	if rest := bytes.TrimRight(header[dec.InputOffset():], " \t\r\n\x00"); len(rest) != 0 {
		return nil, fmt.Errorf("safetensors: %s: bad JSON header: %d unexpected bytes after the JSON object", path, len(rest))
	}
	f := &File{
		path:   path,
		mapped: buf,
		data:   buf[headerLenBytes+int(n):],
		infos:  make(map[string]TensorInfo, len(raw)),
	}
	dataLen := int64(len(f.data))
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.metadata); err != nil {
				return nil, fmt.Errorf("safetensors: %s: bad JSON header: __metadata__ must map strings to strings: %v", path, err)
			}
			continue
		}
		info, err := parseEntry(name, msg)
		if err != nil {
			return nil, fmt.Errorf("safetensors: %s: %w", path, err)
		}
		f.infos[name] = info
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	if err := checkLayout(path, f.infos, dataLen); err != nil {
		return nil, err
	}
	return f, nil
}

// parseEntry validates one header entry in isolation.
func parseEntry(name string, msg json.RawMessage) (TensorInfo, error) {
	var e rawEntry
	if err := json.Unmarshal(msg, &e); err != nil {
		return TensorInfo{}, fmt.Errorf("tensor %q: bad JSON header entry: %v", name, err)
	}
	switch {
	case e.DType == nil:
		return TensorInfo{}, fmt.Errorf("tensor %q: header entry has no \"dtype\"", name)
	case e.Shape == nil:
		return TensorInfo{}, fmt.Errorf("tensor %q: header entry has no \"shape\"", name)
	case e.DataOffsets == nil:
		return TensorInfo{}, fmt.Errorf("tensor %q: header entry has no \"data_offsets\"", name)
	case len(*e.DataOffsets) != 2:
		return TensorInfo{}, fmt.Errorf("tensor %q: data_offsets must be [begin, end], got %v", name, *e.DataOffsets)
	}
	dt := DType(*e.DType)
	if !dt.Known() {
		return TensorInfo{}, fmt.Errorf("tensor %q: unknown dtype %q", name, *e.DType)
	}
	info := TensorInfo{Name: name, DType: dt, Begin: (*e.DataOffsets)[0], End: (*e.DataOffsets)[1]}
	if info.Begin < 0 || info.End < info.Begin {
		return TensorInfo{}, fmt.Errorf("tensor %q: data_offsets [%d, %d] are not 0 <= begin <= end", name, info.Begin, info.End)
	}
	elems := int64(1)
	info.Shape = make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		if d < 0 {
			return TensorInfo{}, fmt.Errorf("tensor %q: shape %v has an invalid dim %d", name, *e.Shape, d)
		}
		if d != 0 && elems > math.MaxInt64/int64(dt.Size())/d {
			return TensorInfo{}, fmt.Errorf("tensor %q: shape %v is too large", name, *e.Shape)
		}
		elems *= d
		info.Shape[i] = int(d)
	}
	if want := elems * int64(dt.Size()); info.End-info.Begin != want {
		return TensorInfo{}, fmt.Errorf("tensor %q: data_offsets [%d, %d] span %d bytes, but dtype %s × shape %v needs %d bytes (dtype/shape mismatch)",
			name, info.Begin, info.End, info.End-info.Begin, dt, *e.Shape, want)
	}
	return info, nil
}

// checkLayout checks that the tensors tile the data section exactly.
func checkLayout(path string, infos map[string]TensorInfo, dataLen int64) error {
	sorted := make([]TensorInfo, 0, len(infos))
	for _, ti := range infos {
		sorted = append(sorted, ti)
	}
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		if a.End != b.End {
			return a.End < b.End
		}
		return a.Name < b.Name
	})
	// Tiling errors (overlap, gap) regardless of the data section's length.
	var expected int64 // next byte not yet covered
	prev := ""
	var layoutErr error
	for _, ti := range sorted {
		if ti.Begin < expected {
			layoutErr = fmt.Errorf("safetensors: %s: tensor %q: data_offsets [%d, %d] overlap tensor %q (which ends at %d)",
				path, ti.Name, ti.Begin, ti.End, prev, expected)
			break
		}
		if ti.Begin > expected {
			layoutErr = fmt.Errorf("safetensors: %s: tensor %q: data_offsets [%d, %d] leave a gap: bytes [%d, %d) belong to no tensor",
				path, ti.Name, ti.Begin, ti.End, expected, ti.Begin)
			break
		}
		if ti.End > ti.Begin {
			expected, prev = ti.End, ti.Name
		}
	}
	// Data beyond the end of the file: a truncated file if the header is
	// otherwise consistent, else offsets out of range.
	for _, ti := range sorted {
		if ti.End <= dataLen {
			continue
		}
		if layoutErr == nil {
			return fmt.Errorf("safetensors: %s: truncated file: tensor %q needs data bytes [%d, %d) but the data section has only %d of the %d bytes the header describes",
				path, ti.Name, ti.Begin, ti.End, dataLen, expected)
		}
		return fmt.Errorf("safetensors: %s: tensor %q: data_offsets [%d, %d] out of range (data section is %d bytes)",
			path, ti.Name, ti.Begin, ti.End, dataLen)
	}
	if layoutErr != nil {
		return layoutErr
	}
	if expected != dataLen {
		return fmt.Errorf("safetensors: %s: %d trailing bytes after the last tensor's data (header describes %d bytes, data section has %d)",
			path, dataLen-expected, expected, dataLen)
	}
	return nil
}

// Path returns the file's path (or the name given to FromBytes).
func (f *File) Path() string { return f.path }

// Close unmaps the file. Slices returned by Bytes must not be used afterwards.
func (f *File) Close() error {
	if f.mapped == nil {
		return nil
	}
	var err error
	if f.unmap != nil {
		err = f.unmap()
	}
	f.mapped, f.data = nil, nil
	if err != nil {
		return fmt.Errorf("safetensors: %s: munmap: %w", f.path, err)
	}
	return nil
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string { return append([]string(nil), f.names...) }

// Info returns the header entry of a tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	ti, ok := f.infos[name]
	if ok {
		ti.Shape = append([]int(nil), ti.Shape...)
	}
	return ti, ok
}

// Metadata returns the "__metadata__" map (nil if absent).
func (f *File) Metadata() map[string]string { return f.metadata }

// Bytes returns a zero-copy view of a tensor's raw little-endian data. It is
// valid until Close and must not be modified (the mapping is read-only).
func (f *File) Bytes(name string) ([]byte, error) {
	if f.mapped == nil {
		return nil, fmt.Errorf("safetensors: %s: file is closed", f.path)
	}
	ti, ok := f.infos[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: %s: no tensor %q", f.path, name)
	}
	return f.data[ti.Begin:ti.End:ti.End], nil
}

// Release tells the kernel the pages of a tensor will not be read again soon,
// so they leave this process's resident memory (they stay in the page cache).
// Loading a model calls it after converting each tensor. It is a no-op for
// FromBytes files; errors are ignored (it is only advice).
func (f *File) Release(name string) {
	if ti, ok := f.infos[name]; ok {
		f.ReleaseRange(name, 0, ti.End-ti.Begin)
	}
}

// ReleaseRange is Release for bytes [begin, end) of a tensor's data (offsets
// into the slice Bytes returns), pages wholly inside the range only: a copy
// that reads a tensor front to back releases what it has read as it goes.
func (f *File) ReleaseRange(name string, begin, end int64) {
	ti, ok := f.infos[name]
	if !ok || f.unmap == nil || f.mapped == nil {
		return
	}
	begin, end = max(begin, 0), min(end, ti.End-ti.Begin)
	page := int64(os.Getpagesize())
	start := int64(len(f.mapped)-len(f.data)) + ti.Begin + begin
	stop := int64(len(f.mapped)-len(f.data)) + ti.Begin + end
	start = (start + page - 1) / page * page // round in: never drop a neighbour's page
	stop = stop / page * page
	if stop > start {
		_ = syscall.Madvise(f.mapped[start:stop], syscall.MADV_DONTNEED)
	}
}
