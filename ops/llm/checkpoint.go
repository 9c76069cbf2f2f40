package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fileio"
	"github.com/gominitron/gominitron/ops/safetensors"
)

// Checkpoint file names inside a Hugging Face model folder.
const (
	WeightsFileName = "model.safetensors"            // single-file checkpoint
	IndexFileName   = "model.safetensors.index.json" // sharded checkpoint
)

// DefaultShardBytes is the shard size SaveModel uses when SaveOptions.ShardBytes
// is 0 (transformers' save_pretrained default max_shard_size, "5GB").
const DefaultShardBytes int64 = 5_000_000_000

// copiedFiles are copied from Model.Source by SaveModel when present, so a
// saved folder stays usable for generation and tokenization.
var copiedFiles = []string{"generation_config.json", "tokenizer.json", "tokenizer_config.json",
	"special_tokens_map.json", "tokenizer.model"}

// Model is a checkpoint in host memory: the config and one tensor per HF
// tensor name ("model.layers.0.self_attn.q_proj.weight"), in PyTorch layout.
type Model struct {
	Config  *Config
	Weights map[string]*tensors.Tensor

	// Source is the folder LoadModel read the model from ("" for a model
	// built in memory). SaveModel never writes into it and copies the
	// tokenizer and generation_config.json files from it.
	Source string
}

// shardIndex is model.safetensors.index.json.
type shardIndex struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// ignoredTensor reports whether a tensor found in a checkpoint is skipped
// on load, as transformers skips it: a tied lm_head.weight (transformers
// re-ties it to the embeddings) and rotary inv_freq buffers.
func ignoredTensor(c *Config, name string) bool {
	return (name == LMHeadName && c.TieEmbeddings) || strings.HasSuffix(name, "rotary_emb.inv_freq")
}

// checkpointFiles returns the safetensors files of the model in dir and, for a
// sharded checkpoint, the index's tensor → shard map.
func checkpointFiles(dir string) (files []string, weightMap map[string]string, err error) {
	single := filepath.Join(dir, WeightsFileName)
	if _, err := os.Lstat(single); err == nil {
		if _, err := fileio.CheckRegular(single); err != nil {
			return nil, nil, fmt.Errorf("llm: %w", err)
		}
		return []string{single}, nil, nil
	}
	indexPath := filepath.Join(dir, IndexFileName)
	data, err := fileio.ReadRegular(indexPath, fileio.MaxSideFileBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("llm: %s: %w: no %s or %s (only safetensors checkpoints are supported)", dir, ErrNoWeights, WeightsFileName, IndexFileName)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("llm: %w", err)
	}
	return parseShardIndex(dir, indexPath, data)
}

// parseShardIndex parses the sharded-checkpoint index read from indexPath
// and returns the shard files (inside dir, sorted) and the tensor → shard
// map. A shard name that is not a plain file name is refused.
func parseShardIndex(dir, indexPath string, data []byte) (files []string, weightMap map[string]string, err error) {
	var idx shardIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, nil, fmt.Errorf("llm: %s: invalid index JSON: %v", indexPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, nil, fmt.Errorf("llm: %s: weight_map is missing or empty", indexPath)
	}
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(idx.WeightMap)) {
		shard := idx.WeightMap[name]
		if shard == "" || shard == "." || shard == ".." || shard != filepath.Base(shard) || !filepath.IsLocal(shard) || strings.ContainsAny(shard, `/\`) {
			return nil, nil, fmt.Errorf("llm: %s: tensor %q: shard name %q escapes the model folder (shards must be plain file names inside it)", indexPath, name, shard)
		}
		if !seen[shard] {
			seen[shard] = true
			files = append(files, filepath.Join(dir, shard))
		}
	}
	sort.Strings(files)
	return files, idx.WeightMap, nil
}

// located is a checkpoint tensor: the opened file holding it and its header entry.
type located struct {
	file *safetensors.File
	info safetensors.TensorInfo
}

// openCheckpoint opens (mmaps) every file of the checkpoint in dir and
// checks its tensors against cfg: names (missing, unexpected, index
// consistency), shapes and dtypes. The caller must close the files.
func openCheckpoint(dir string, cfg *Config) (map[string]located, []*safetensors.File, error) {
	paths, weightMap, err := checkpointFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	var files []*safetensors.File
	fail := func(err error) (map[string]located, []*safetensors.File, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, nil, err
	}
	found := map[string]located{}
	var unexpected []string
	for _, p := range paths {
		f, err := safetensors.Open(p)
		if err != nil {
			return fail(fmt.Errorf("llm: %w", err))
		}
		files = append(files, f)
		for _, name := range f.Names() {
			info, _ := f.Info(name)
			if weightMap != nil && weightMap[name] != filepath.Base(p) {
				if _, listed := weightMap[name]; listed {
					return fail(fmt.Errorf("llm: %s: tensor %q is in %s but %s maps it to %s", p, name, filepath.Base(p), IndexFileName, weightMap[name]))
				}
				return fail(fmt.Errorf("llm: %s: tensor %q is not listed in %s", p, name, IndexFileName))
			}
			if prev, dup := found[name]; dup {
				return fail(fmt.Errorf("llm: tensor %q is in both %s and %s", name, prev.file.Path(), p))
			}
			if ignoredTensor(cfg, name) {
				continue
			}
			found[name] = located{f, info}
		}
	}
	for name, shard := range weightMap {
		if _, ok := found[name]; !ok && !ignoredTensor(cfg, name) {
			return fail(fmt.Errorf("llm: %s: %s maps tensor %q to %s, which does not hold it", dir, IndexFileName, name, shard))
		}
	}
	want := cfg.TensorShapes()
	var missing []string
	for name := range want {
		if _, ok := found[name]; !ok {
			missing = append(missing, name)
		}
	}
	for name := range found {
		if _, ok := want[name]; !ok {
			unexpected = append(unexpected, name)
		}
	}
	if len(missing) > 0 {
		return fail(fmt.Errorf("llm: %s: checkpoint is missing %d tensor(s) the config requires: %s", dir, len(missing), listNames(missing)))
	}
	if len(unexpected) > 0 {
		return fail(fmt.Errorf("llm: %s: checkpoint has %d unexpected tensor(s) for this config: %s", dir, len(unexpected), listNames(unexpected)))
	}
	for _, name := range slices.Sorted(maps.Keys(found)) {
		loc := found[name]
		if !loc.info.DType.IsFloat() {
			return fail(fmt.Errorf("llm: %s: tensor %q has dtype %s; weights must be F32, BF16, F16 or F64 (dtype mismatch)", loc.file.Path(), name, loc.info.DType))
		}
		if !slices.Equal(loc.info.Shape, want[name]) {
			return fail(fmt.Errorf("llm: %s: tensor %q has shape %v but the config implies %v (shape mismatch with config.json)", loc.file.Path(), name, loc.info.Shape, want[name]))
		}
	}
	return found, files, nil
}

// listNames formats up to 5 sorted names for an error message.
func listNames(names []string) string {
	sort.Strings(names)
	if len(names) > 5 {
		return fmt.Sprintf("%q and %d more", names[:5], len(names)-5)
	}
	return fmt.Sprintf("%q", names)
}

// checkFloatDType validates a weight dtype; InvalidDType means float32.
func checkFloatDType(dtype dtypes.DType) (dtypes.DType, error) {
	switch dtype {
	case dtypes.InvalidDType:
		return dtypes.Float32, nil
	case dtypes.Float32, dtypes.BFloat16, dtypes.Float16, dtypes.Float64:
		return dtype, nil
	}
	return dtypes.InvalidDType, fmt.Errorf("dtype %s is not a weight dtype (float32, bfloat16, float16, float64)", dtype)
}

// LoadModel loads the Hugging Face checkpoint in dir (config.json plus
// model.safetensors, or model.safetensors.index.json and its shards) with
// every weight converted to dtype (dtypes.InvalidDType = float32). Files are
// memory-mapped and converted one tensor at a time (pages released after
// each), so loading holds the converted model plus at most one tensor's
// pages, never two copies of the model. Names, shapes and dtypes are checked
// against the config, and the converted size against the available memory
// (CheckFits), before anything is converted; a weight holding a NaN or ±Inf
// is an error naming it (ErrNonFinite).
func LoadModel(dir string, dtype dtypes.DType) (*Model, error) {
	dtype, err := checkFloatDType(dtype)
	if err != nil {
		return nil, fmt.Errorf("llm: loading %s: %w", dir, err)
	}
	return loadModel(dir, strings.ToLower(dtype.String()), func(dtypes.DType) dtypes.DType { return dtype }, nil)
}

// LoadModelForCompute loads dir (as LoadModel) for computing in
// computeDType: each weight keeps its stored dtype — a bfloat16 checkpoint
// stays 2 bytes a weight in memory and on the device, and Forward upcasts
// inside the graph — unless computeDType is narrower (a float32 checkpoint
// run in bfloat16 is converted on load). Forward-only work (generate, eval,
// importance, forward) loads this way; see WeightDTypeFor.
func LoadModelForCompute(dir string, computeDType dtypes.DType) (*Model, error) {
	computeDType, err := checkFloatDType(computeDType)
	if err != nil {
		return nil, fmt.Errorf("llm: loading %s: %w", dir, err)
	}
	return loadModel(dir, "stored-dtype", func(stored dtypes.DType) dtypes.DType { return WeightDTypeFor(stored, computeDType) }, nil)
}

// LoadModelOnDevice loads dir as LoadModelForCompute does, straight onto
// backend's device 0, one tensor at a time: on a backend with shared
// buffers (the Go backend) each weight is converted from the mapped file
// into its device buffer, with no host copy at all; elsewhere (XLA) each
// tensor is read to the host and moved before the next is read. Loading
// then holds the model once plus one tensor (LoadModelForCompute followed
// by MoveToDevice held the whole model and, during the move, a second copy
// of the tensor being moved: 1.27× the weights on Qwen2.5-0.5B's shape,
// whose embeddings are 0.27× of them).
func LoadModelOnDevice(dir string, computeDType dtypes.DType, backend compute.Backend) (*Model, error) {
	if backend == nil {
		return nil, fmt.Errorf("llm: loading %s onto a device: nil backend", dir)
	}
	computeDType, err := checkFloatDType(computeDType)
	if err != nil {
		return nil, fmt.Errorf("llm: loading %s: %w", dir, err)
	}
	return loadModel(dir, "stored-dtype", func(stored dtypes.DType) dtypes.DType { return WeightDTypeFor(stored, computeDType) }, backend)
}

// WeightDTypeFor is the dtype a weight stored as stored is held in for
// computing in computeDType: the stored dtype, unless computeDType is
// narrower (or as wide: then computeDType, so no cast is needed in the graph).
func WeightDTypeFor(stored, computeDType dtypes.DType) dtypes.DType {
	if stored == dtypes.InvalidDType || computeDType.Size() <= stored.Size() {
		return computeDType
	}
	return stored
}

// loadModel loads dir with each tensor converted to dtypeOf(its stored
// dtype), on the host or, with a backend, on its device 0 (see
// LoadModelOnDevice); what names the choice in the memory check's message.
func loadModel(dir, what string, dtypeOf func(stored dtypes.DType) dtypes.DType, backend compute.Backend) (*Model, error) {
	ck, err := OpenCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	cfg := ck.Config
	names := cfg.TensorNames()
	var need int64
	for _, name := range names {
		info := ck.found[name].info
		need = satAdd(need, satMul(info.NumElements(), int64(dtypeOf(info.DType.GoMLX()).Size())))
	}
	if err := CheckFits(fmt.Sprintf("llm: loading %s (%s weights)", dir, what), need); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, Weights: make(map[string]*tensors.Tensor, len(names)), Source: dir}
	mover := deviceMover{backend: backend}
	for _, name := range names {
		dtype := dtypeOf(ck.found[name].info.DType.GoMLX())
		t, err := ck.tensorOn(name, dtype, backend)
		if err != nil {
			return nil, err
		}
		if backend != nil && !t.IsShared() {
			if err := mover.move(name, t); err != nil {
				return nil, err
			}
		}
		m.Weights[name] = t
	}
	if backend != nil {
		// Collect and return what loading freed before the caller computes:
		// the heap then starts its first pass at the model's size (without
		// it the forward child of TestRealSizePeakRSS peaked at 1.29–1.39 GB
		// over runs; with it 1.20–1.29 GB).
		debug.FreeOSMemory()
	}
	return m, nil
}

// Checkpoint is a model folder opened for reading one tensor at a time:
// config.json parsed, the safetensors files memory-mapped and their headers
// checked against the config (names, shapes, dtypes). Streaming work
// (pruning) reads each tensor, uses it and drops it, so it never holds the
// model. Close unmaps the files.
type Checkpoint struct {
	Config *Config
	Dir    string
	found  map[string]located
	files  []*safetensors.File
}

// OpenCheckpoint opens the model folder dir (see Checkpoint).
func OpenCheckpoint(dir string) (*Checkpoint, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	found, files, err := openCheckpoint(dir, cfg)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Config: cfg, Dir: dir, found: found, files: files}, nil
}

// StoredDType is the GoMLX dtype the named tensor is stored in
// (dtypes.InvalidDType if the checkpoint has no such tensor).
func (c *Checkpoint) StoredDType(name string) dtypes.DType {
	loc, ok := c.found[name]
	if !ok {
		return dtypes.InvalidDType
	}
	return loc.info.DType.GoMLX()
}

// Raw returns a zero-copy view of the named tensor's stored bytes
// (little-endian, valid until Close, read-only) and its stored shape
// (dtype and dimensions), for copying parts of a tensor straight from the
// mapped file; ReleaseRaw drops the pages read. Unlike Tensor, nothing is
// checked for finiteness.
func (c *Checkpoint) Raw(name string) ([]byte, shapes.Shape, error) {
	loc, ok := c.found[name]
	if !ok {
		return nil, shapes.Shape{}, fmt.Errorf("llm: %s: checkpoint has no tensor %q", c.Dir, name)
	}
	data, err := loc.file.Bytes(name)
	if err != nil {
		return nil, shapes.Shape{}, fmt.Errorf("llm: %w", err)
	}
	return data, shapes.Make(loc.info.DType.GoMLX(), loc.info.Shape...), nil
}

// ReleaseRaw drops bytes [begin, end) of the named tensor's Raw view from
// this process's resident memory (pages wholly inside the range).
func (c *Checkpoint) ReleaseRaw(name string, begin, end int64) {
	if loc, ok := c.found[name]; ok {
		loc.file.ReleaseRange(name, begin, end)
	}
}

// Tensor reads the named tensor converted to dtype (dtypes.InvalidDType:
// its stored dtype) into a new host tensor, releases the file pages it was
// read from, and checks it is finite (ErrNonFinite names it).
func (c *Checkpoint) Tensor(name string, dtype dtypes.DType) (*tensors.Tensor, error) {
	return c.tensorOn(name, dtype, nil)
}

// tensorOn is Tensor, except that on a backend with shared buffers (the Go
// backend) the tensor is converted straight into a new shared buffer of its
// device 0, with no host copy; for a nil backend or one without shared
// buffers it is a host tensor.
func (c *Checkpoint) tensorOn(name string, dtype dtypes.DType, backend compute.Backend) (*tensors.Tensor, error) {
	loc, ok := c.found[name]
	if !ok {
		return nil, fmt.Errorf("llm: %s: checkpoint has no tensor %q", c.Dir, name)
	}
	var t *tensors.Tensor
	var err error
	if backend != nil && backend.HasSharedBuffers() && dtype != dtypes.InvalidDType {
		if t, err = tensors.FromShapeForBackend(backend, 0, shapes.Make(dtype, loc.info.Shape...)); err != nil {
			return nil, fmt.Errorf("llm: %s: weight %q: %w", c.Dir, name, err)
		}
		err = loc.file.TensorInto(name, t)
	} else {
		t, err = loc.file.Tensor(name, dtype)
	}
	if err != nil {
		if t != nil {
			t.FinalizeAll()
		}
		return nil, fmt.Errorf("llm: %w", err)
	}
	loc.file.Release(name)
	if err := checkFiniteTensor(name, t); err != nil {
		t.FinalizeAll()
		return nil, fmt.Errorf("llm: loading %s: %w", c.Dir, err)
	}
	return t, nil
}

// Close unmaps the checkpoint's files.
func (c *Checkpoint) Close() error {
	var first error
	for _, f := range c.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.files = nil
	return first
}

// SaveOptions configures SaveModel.
type SaveOptions struct {
	// DType is the on-disk dtype of the weights (float32, bfloat16,
	// float16); default: the config's torch_dtype, else float32. config.json's
	// torch_dtype is set to it.
	DType dtypes.DType
	// ShardBytes: above this many bytes of tensor data the weights are split
	// into model-0000i-of-0000N.safetensors shards plus
	// model.safetensors.index.json; 0 means DefaultShardBytes.
	ShardBytes int64
	// Overwrite allows replacing an existing non-empty folder (never the
	// folder the model was loaded from).
	Overwrite bool
	// Progress, if set, is called as each tensor's turn to be written comes
	// (done counts it; total is the number of tensors).
	Progress func(done, total int)
}

// torchDTypeOf maps config.json dtype names to GoMLX dtypes.
var torchDTypeOf = map[string]dtypes.DType{"float32": dtypes.Float32, "bfloat16": dtypes.BFloat16, "float16": dtypes.Float16}

// torchDTypeName is the config.json name of a GoMLX float dtype.
func torchDTypeName(dt dtypes.DType) string {
	for name, d := range torchDTypeOf {
		if d == dt {
			return name
		}
	}
	return "float64"
}

// SaveModel writes m as a Hugging Face model folder dir: config.json (classic
// form), model.safetensors (or shards + index above opts.ShardBytes), and
// the tokenizer/generation files of m.Source when it has them. The folder is
// built under a temporary name next to dir and renamed into place, so dir
// holds either the old content or the complete new model. It refuses to
// write into m.Source, or into a non-empty dir unless opts.Overwrite.
// Tied models get no lm_head.weight tensor.
func SaveModel(dir string, m *Model, opts SaveOptions) error {
	if m == nil || m.Config == nil {
		return fmt.Errorf("llm: saving %s: model has no config", dir)
	}
	if err := CheckWeights(m.Config, m.Weights); err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	names := m.Config.TensorNames()
	list := make([]safetensors.NamedTensor, len(names))
	for i, name := range names {
		list[i] = safetensors.NamedTensor{Name: name, T: m.Weights[name]}
	}
	return SaveTensors(dir, m.Config, m.Source, list, opts)
}

// SaveTensors is SaveModel for the tensors ts of a model with config cfg
// loaded from source ("" for none), written in the order given: exactly the
// tensors cfg.TensorShapes lists. A tensor given by Produce (instead of T)
// is made when its turn to be written comes and released after, so a
// streamed export holds one tensor at a time.
func SaveTensors(dir string, cfg *Config, source string, ts []safetensors.NamedTensor, opts SaveOptions) (err error) {
	if cfg == nil {
		return fmt.Errorf("llm: saving %s: model has no config", dir)
	}
	outDType := opts.DType
	if outDType == dtypes.InvalidDType {
		outDType = dtypes.Float32
		if d, ok := torchDTypeOf[cfg.TorchDType]; ok {
			outDType = d
		}
	}
	if outDType, err = checkFloatDType(outDType); err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	shardBytes := opts.ShardBytes
	if shardBytes <= 0 {
		shardBytes = DefaultShardBytes
	}
	if err := checkTensorList(cfg, ts); err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	if err := checkTarget(dir, source, opts.Overwrite); err != nil {
		return err
	}
	if opts.Progress != nil {
		ts = withProgress(ts, opts.Progress)
	}

	if err := fileio.MkdirParents(dir); err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+fileio.TempInfix)
	if err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	c := *cfg
	c.TorchDType = torchDTypeName(outDType)
	if err = SaveConfig(tmp, &c); err != nil {
		return err
	}
	if err = writeShards(tmp, ts, outDType, shardBytes); err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	if source != "" {
		for _, name := range copiedFiles {
			if _, err = fileio.CopySideFile(source, name, filepath.Join(tmp, name)); err != nil {
				return fmt.Errorf("llm: saving %s: %w", dir, err)
			}
		}
	}
	return replaceDir(tmp, dir)
}

// withProgress returns ts with every tensor made by a Produce that reports
// progress(i+1, len(ts)) when tensor i is made.
func withProgress(ts []safetensors.NamedTensor, progress func(done, total int)) []safetensors.NamedTensor {
	out := make([]safetensors.NamedTensor, len(ts))
	for i, nt := range ts {
		produce, t := nt.Produce, nt.T
		out[i] = safetensors.NamedTensor{Name: nt.Name, Shape: nt.TensorShape(), Produce: func() (*tensors.Tensor, error) {
			progress(i+1, len(ts))
			if t != nil {
				return t, nil
			}
			return produce()
		}}
	}
	return out
}

// checkTensorList checks that ts are exactly cfg's tensors, with their
// shapes and a floating-point dtype.
func checkTensorList(cfg *Config, ts []safetensors.NamedTensor) error {
	want := cfg.TensorShapes()
	seen := make(map[string]bool, len(ts))
	for _, nt := range ts {
		dims, ok := want[nt.Name]
		if !ok || seen[nt.Name] {
			return fmt.Errorf("weight %q is not a tensor of the config, or given twice", nt.Name)
		}
		seen[nt.Name] = true
		shape := nt.TensorShape()
		if !slices.Equal(shape.Dimensions, dims) {
			return fmt.Errorf("weight %q has shape %v but the config implies %v", nt.Name, shape.Dimensions, dims)
		}
		if !shape.DType.IsFloat() {
			return fmt.Errorf("weight %q has dtype %s, not a floating-point dtype", nt.Name, shape.DType)
		}
	}
	if len(seen) != len(want) {
		var missing []string
		for name := range want {
			if !seen[name] {
				missing = append(missing, name)
			}
		}
		return fmt.Errorf("model is missing %d weight(s) the config requires: %s", len(missing), listNames(missing))
	}
	return nil
}

// CheckWeights verifies that weights hold exactly the tensors cfg needs
// (cfg.TensorShapes), with their shapes and a floating-point dtype. A tensor
// that loading skips (a tied lm_head.weight, rotary inv_freq buffers) is
// tolerated; any other extra tensor is an error. It is the one check between
// a config and its weights: SaveModel, ToStore and prune.Apply use it, and
// SaveTensors applies the same per-tensor rules (checkTensorList) to a list.
func CheckWeights(cfg *Config, weights map[string]*tensors.Tensor) error {
	want := cfg.TensorShapes()
	var missing, unexpected []string
	for name := range want {
		if weights[name] == nil {
			missing = append(missing, name)
		}
	}
	list := make([]safetensors.NamedTensor, 0, len(want))
	for name, t := range weights {
		if _, ok := want[name]; ok {
			if t != nil {
				list = append(list, safetensors.NamedTensor{Name: name, T: t})
			}
		} else if !ignoredTensor(cfg, name) {
			unexpected = append(unexpected, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("model is missing %d weight(s) the config requires: %s", len(missing), listNames(missing))
	}
	if len(unexpected) > 0 {
		return fmt.Errorf("model has %d weight(s) the config does not have: %s", len(unexpected), listNames(unexpected))
	}
	return checkTensorList(cfg, list)
}

// checkTarget refuses to write over the source model or a non-empty folder.
func checkTarget(dir, source string, overwrite bool) error {
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("llm: saving %s: exists and is not a folder", dir)
	}
	if source != "" {
		if src, err := os.Stat(source); err == nil && os.SameFile(src, st) {
			return fmt.Errorf("llm: saving %s: refusing to overwrite the folder the model was loaded from; save to a new folder", dir)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	if len(entries) > 0 && !overwrite {
		return fmt.Errorf("llm: saving %s: folder is not empty (%d entries); choose a new folder or set Overwrite", dir, len(entries))
	}
	return nil
}

// writeShards writes the safetensors file(s) of ts and, when sharded, the index.
func writeShards(dir string, ts []safetensors.NamedTensor, dtype dtypes.DType, shardBytes int64) error {
	var shards [][]safetensors.NamedTensor
	var cur []safetensors.NamedTensor
	var curBytes, total int64
	for _, nt := range ts {
		n := int64(nt.TensorShape().Size()) * int64(dtype.Size())
		if len(cur) > 0 && curBytes+n > shardBytes {
			shards, cur, curBytes = append(shards, cur), nil, 0
		}
		cur = append(cur, nt)
		curBytes += n
		total += n
	}
	shards = append(shards, cur)
	meta := map[string]string{"format": "pt"}
	if len(shards) == 1 {
		return safetensors.WriteAs(filepath.Join(dir, WeightsFileName), shards[0], dtype, meta)
	}
	idx := shardIndex{Metadata: map[string]any{"total_size": total}, WeightMap: map[string]string{}}
	for i, shard := range shards {
		file := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := safetensors.WriteAs(filepath.Join(dir, file), shard, dtype, meta); err != nil {
			return err
		}
		for _, nt := range shard {
			idx.WeightMap[nt.Name] = file
		}
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return fileio.WriteFile(filepath.Join(dir, IndexFileName), append(data, '\n'))
}

// replaceDir moves the finished folder tmp to dir, replacing dir if it exists.
func replaceDir(tmp, dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("llm: saving %s: %w", dir, err)
		}
		return nil
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	// os.Rename refuses to replace a folder: move the old one into a fresh
	// temporary folder first, then the new one into place.
	old, err := os.MkdirTemp(parent, "."+base+".old-")
	if err != nil {
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	if err := os.Rename(dir, filepath.Join(old, base)); err != nil {
		os.Remove(old)
		return fmt.Errorf("llm: saving %s: moving the old folder aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(filepath.Join(old, base), dir) // put the old content back
		os.Remove(old)
		return fmt.Errorf("llm: saving %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("llm: saving %s: removing the old content %s: %w", dir, old, err)
	}
	return nil
}

// ErrNoWeights is returned (wrapped) when a model folder has neither
// model.safetensors nor model.safetensors.index.json.
var ErrNoWeights = errors.New("no safetensors weights")

// CheckpointInfo summarizes a checkpoint's files from their headers.
type CheckpointInfo struct {
	Files     []string       `json:"files"`      // safetensors file names
	Sharded   bool           `json:"sharded"`    // model.safetensors.index.json
	Tensors   int            `json:"tensors"`    // tensors used by the model
	DTypes    map[string]int `json:"dtypes"`     // on-disk dtype → number of tensors
	DataBytes int64          `json:"data_bytes"` // bytes of tensor data used by the model
}

// Inspection is what `gominitron inspect` prints for a model folder.
type Inspection struct {
	Model                string           `json:"model"`
	Config               json.RawMessage  `json:"config"` // HF classic form (HFJSON)
	Params               ParamCount       `json:"params"`
	WeightBytes          map[string]int64 `json:"weight_bytes"`             // per dtype
	KVCacheBytesPerToken map[string]int64 `json:"kv_cache_bytes_per_token"` // per dtype, one sequence
	Checkpoint           *CheckpointInfo  `json:"checkpoint"`               // nil when the folder has no weights
}

// Inspect reads dir's config.json and, when present, validates the
// checkpoint's safetensors headers against it (names, shapes, dtypes, file
// layout; no tensor data is converted). A folder without weight files is
// fine (Checkpoint is nil); broken weight files are an error.
func Inspect(dir string) (*Inspection, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	hf, err := cfg.HFJSON()
	if err != nil {
		return nil, err
	}
	ins := &Inspection{Model: dir, Config: json.RawMessage(bytes.TrimSpace(hf)), Params: cfg.Params(),
		WeightBytes: map[string]int64{}, KVCacheBytesPerToken: map[string]int64{}}
	for name, dt := range torchDTypeOf {
		ins.WeightBytes[name] = cfg.WeightBytes(dt)
		ins.KVCacheBytesPerToken[name] = cfg.KVCacheBytesPerToken(dt)
	}
	found, files, err := openCheckpoint(dir, cfg)
	if errors.Is(err, ErrNoWeights) {
		return ins, nil
	}
	if err != nil {
		return nil, err
	}
	info := &CheckpointInfo{DTypes: map[string]int{}}
	for _, f := range files {
		info.Files = append(info.Files, filepath.Base(f.Path()))
		f.Close()
	}
	_, statErr := os.Stat(filepath.Join(dir, WeightsFileName))
	info.Sharded = statErr != nil
	for _, loc := range found {
		info.Tensors++
		info.DTypes[string(loc.info.DType)]++
		info.DataBytes += loc.info.End - loc.info.Begin
	}
	ins.Checkpoint = info
	return ins, nil
}

// IsModelDir reports whether dir holds a model: a config.json, a
// model.safetensors or a sharded index (whatever their kind, so a broken
// model still counts).
func IsModelDir(dir string) bool {
	for _, name := range []string{ConfigFileName, WeightsFileName, IndexFileName} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// gcEveryBytes is how many bytes of weights MoveToDevice moves between
// garbage collections, bounding the host copies already moved but not yet
// reclaimed.
const gcEveryBytes = 128 << 20

// MoveToDevice puts every weight of m on the backend's device 0 and frees
// its host copy (a CPU backend shares the memory instead of copying it), one
// tensor at a time with a garbage collection returning the freed host copies to the
// operating system every gcEveryBytes, so the move
// peaks at the model's size plus gcEveryBytes instead of two copies of the
// model (host tensors and device buffers, or the Go heap growing to twice
// the live weights before collecting). Reading a weight afterwards
// (ConstFlatData, SaveModel) copies it back to the host.
func (m *Model) MoveToDevice(backend compute.Backend) error {
	mover := deviceMover{backend: backend}
	for _, name := range m.Config.TensorNames() {
		if t := m.Weights[name]; t != nil {
			if err := mover.move(name, t); err != nil {
				return err
			}
		}
	}
	debug.FreeOSMemory()
	return nil
}

// deviceMover moves weights to a backend's device 0 one at a time, freeing
// each host copy and returning the freed copies to the operating system every
// gcEveryBytes (MoveToDevice, LoadModelOnDevice).
type deviceMover struct {
	backend compute.Backend
	moved   int64 // host bytes moved since the last collection
}

func (d *deviceMover) move(name string, t *tensors.Tensor) error {
	if err := t.ToDevice(d.backend, 0); err != nil {
		return fmt.Errorf("llm: moving weight %q to the device: %w", name, err)
	}
	if d.moved += int64(t.Memory()); d.moved >= gcEveryBytes {
		debug.FreeOSMemory()
		d.moved = 0
	}
	return nil
}
