package reproduce

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/ops/backend"
	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/evaluate"
	"github.com/gominitron/gominitron/ops/llm"
	"github.com/gominitron/gominitron/ops/tokenize"
	"github.com/gominitron/gominitron/ops/train"
)

// Defaults of Options.
const (
	DefaultTeacherDir  = "models/demo-teacher"    // relative to the checkout
	DefaultValFraction = 0.02                     // the teacher recipes' validation fraction
	DefaultSplitSeed   = 1                        // the teacher recipes' split seed
	DefaultSeed        = 1                        // experiment seed
	brownRelPath       = "data/brown/brown.jsonl" // `gominitron data fetch brown`
	smokeCorpusRelPath = "ops/reproduce/testdata/corpus.jsonl"
)

// Options configures Open.
type Options struct {
	// Root is the checkout (default $GOMINITRON_ROOT, else the nearest parent
	// of the working directory holding go.mod of gominitron).
	Root string
	// Teacher is a Hugging Face model folder with tokenizer.json (default
	// <Root>/models/demo-teacher; when that is missing, a random-weight tiny
	// teacher is built under Out, good only for smoke runs).
	Teacher string
	// Corpus is the text (file or folder, see data.Source) the token file is
	// packed from and the next-sentence task is built from (default the Brown
	// corpus <Root>/data/brown/brown.jsonl, fetched when missing; else the
	// package's small test corpus).
	Corpus string
	// Data is a token file (`gominitron data pack`) of Corpus with the
	// teacher's tokenizer, with train and val splits. Default: packed once into
	// <Out>/data/.
	Data        string
	ValFraction float64 // validation documents (default DefaultValFraction)
	SplitSeed   uint64  // split hash seed (default DefaultSplitSeed)

	Out   string // results root: <Out>/<experiment>/...
	Scale string // smoke | cpu | gpu (default cpu)
	// Sizes overrides the scale's sizes when not nil.
	Sizes *Sizes
	Seed  uint64 // experiment seed (default DefaultSeed)
	// Seeds > 0 overrides the scale's number of data-order seeds of the
	// variance runs (width vs depth, KD vs CE) and calibration draws.
	Seeds int

	Log     io.Writer       // progress lines (default io.Discard)
	Backend compute.Backend // default backend.New()
}

// Env is an opened experiment environment: the teacher in float32, its
// tokenizer, the token file, fixed validation batches and the held-out
// documents.
type Env struct {
	Root       string
	TeacherDir string
	Teacher    *llm.Model // float32 weights
	Tokenizer  *tokenize.Tokenizer
	Corpus     string
	TokenFile  string
	Out        string
	Scale      string
	Sizes      Sizes
	Seed       uint64
	Backend    compute.Backend
	Log        io.Writer
	// Notes say what was chosen and why (fallbacks).
	Notes []string

	tokens  *data.Tokens
	val     []*tensors.Tensor // fixed validation batches [BatchSize, SeqLen+1]
	valDocs []string          // held-out documents (the corpus' val split)
	mcDocs  []evaluate.Doc    // next-sentence task (built lazily)
	encoder *evaluate.Encoder
	// teacherLoss caches the teacher's validation LM loss.
	teacherLoss *float64
}

// Open loads the teacher, packs the corpus if needed and prepares the fixed
// validation batches.
func Open(o Options) (*Env, error) {
	root, err := findRoot(o.Root)
	if err != nil {
		return nil, err
	}
	if o.Out == "" {
		return nil, errors.New("reproduce: --out is required")
	}
	scale := o.Scale
	if scale == "" {
		scale = "cpu"
	}
	sizes, err := SizesFor(scale)
	if err != nil {
		return nil, err
	}
	if o.Sizes != nil {
		sizes = *o.Sizes
	}
	if o.Seeds > 0 {
		sizes.Seeds = o.Seeds
	}
	e := &Env{Root: root, Out: o.Out, Scale: scale, Sizes: sizes, Seed: o.Seed, Backend: o.Backend, Log: o.Log}
	if e.Seed == 0 {
		e.Seed = DefaultSeed
	}
	if e.Log == nil {
		e.Log = io.Discard
	}
	if e.Backend == nil {
		if e.Backend, err = backend.New(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("reproduce: %w", err)
	}
	e.TeacherDir = o.Teacher
	if e.TeacherDir == "" {
		e.TeacherDir = filepath.Join(root, DefaultTeacherDir)
		if _, err := os.Stat(filepath.Join(e.TeacherDir, "config.json")); err != nil {
			e.TeacherDir = filepath.Join(o.Out, "smoke-teacher")
			e.note("note: %s is missing: using a random-weight tiny teacher (%s); numbers mean nothing beyond a smoke run", DefaultTeacherDir, e.TeacherDir)
			if _, err := os.Stat(filepath.Join(e.TeacherDir, "config.json")); err != nil {
				if err := BuildSmokeTeacher(e.TeacherDir, filepath.Join(root, SmokeTokenizerDir), e.Seed); err != nil {
					return nil, err
				}
			}
		}
	}
	if e.Teacher, err = llm.LoadModel(e.TeacherDir, dtypes.Float32); err != nil {
		return nil, err
	}
	if e.Tokenizer, err = tokenize.Load(filepath.Join(e.TeacherDir, "tokenizer.json")); err != nil {
		return nil, fmt.Errorf("reproduce: the teacher needs a tokenizer.json: %w", err)
	}
	if mp := e.Teacher.Config.MaxPositions; mp > 1 && e.Sizes.SeqLen+1 > mp {
		e.note("note: sequence length %d capped to the teacher's max_position_embeddings−1 = %d", e.Sizes.SeqLen, mp-1)
		e.Sizes.SeqLen = mp - 1
	}
	if mp := e.Teacher.Config.MaxPositions; mp > 1 && e.Sizes.CalibSeqLen > mp {
		e.Sizes.CalibSeqLen = mp
	}
	valFrac, splitSeed := o.ValFraction, o.SplitSeed
	if valFrac == 0 {
		valFrac = DefaultValFraction
	}
	if splitSeed == 0 {
		splitSeed = DefaultSplitSeed
	}
	e.Corpus = o.Corpus
	if e.Corpus == "" {
		e.Corpus = e.defaultCorpus()
		if strings.HasSuffix(e.Corpus, smokeCorpusRelPath) && o.ValFraction == 0 {
			valFrac = 0.25 // the small corpus has few documents
		}
	}
	e.TokenFile = o.Data
	if e.TokenFile == "" {
		name := fmt.Sprintf("%s-%s-v%g-s%d.tokens", filepath.Base(e.TeacherDir), strings.TrimSuffix(filepath.Base(e.Corpus), filepath.Ext(e.Corpus)), valFrac, splitSeed)
		e.TokenFile = filepath.Join(o.Out, "data", name)
		if !fresh(e.TokenFile, e.Corpus, filepath.Join(e.TeacherDir, "tokenizer.json")) {
			if err := os.MkdirAll(filepath.Dir(e.TokenFile), 0o755); err != nil {
				return nil, fmt.Errorf("reproduce: %w", err)
			}
			start := time.Now()
			if _, err := data.Pack(data.PackOptions{Sources: []data.Source{{Path: e.Corpus}}, Tokenizer: e.Tokenizer,
				Out: e.TokenFile, ValFraction: valFrac, Seed: splitSeed, EOS: -1}); err != nil {
				return nil, fmt.Errorf("reproduce: packing %s: %w", e.Corpus, err)
			}
			e.logf("packed %s into %s (%.1fs)", e.Corpus, e.TokenFile, time.Since(start).Seconds())
		}
	}
	if e.tokens, err = data.OpenTokens(e.TokenFile); err != nil {
		return nil, err
	}
	if err := e.tokens.CheckModel(e.Teacher.Config.VocabSize, e.Teacher.Config.MaxPositions, e.Sizes.SeqLen); err != nil {
		return nil, fmt.Errorf("reproduce: %w", err)
	}
	if e.val, err = train.ValBatches(e.tokens, data.Val, e.Sizes.BatchSize, e.Sizes.SeqLen, e.Sizes.ValBatches); err != nil {
		return nil, fmt.Errorf("reproduce: validation batches of %s: %w", e.TokenFile, err)
	}
	if len(e.val) == 0 {
		return nil, fmt.Errorf("reproduce: %s has no validation batch of %d×%d tokens", e.TokenFile, e.Sizes.BatchSize, e.Sizes.SeqLen+1)
	}
	docs, err := evaluate.ReadTextDocuments(e.Corpus)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if data.IsValidation(d, splitSeed, valFrac) {
			e.valDocs = append(e.valDocs, d)
		}
	}
	return e, nil
}

// Close releases the token file.
func (e *Env) Close() error {
	if e.tokens != nil {
		return e.tokens.Close()
	}
	return nil
}

func (e *Env) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	e.Notes = append(e.Notes, s)
	e.logf("%s", s)
}

func (e *Env) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format+"\n", args...)
	}
}

// defaultCorpus is the Brown corpus (fetched when missing), else the small
// test corpus.
func (e *Env) defaultCorpus() string {
	dataDir := os.Getenv("GOMINITRON_DATA")
	if dataDir == "" {
		dataDir = filepath.Join(e.Root, "data")
	}
	brown := filepath.Join(dataDir, "brown", "brown.jsonl")
	if _, err := os.Stat(brown); err == nil {
		return brown
	}
	if e.Scale != "smoke" {
		if m, err := data.FetchBrown(data.FetchOptions{Dir: dataDir}); err == nil {
			p := m.Path()
			if !filepath.IsAbs(p) {
				p = filepath.Join(m.Dir, filepath.Base(p))
			}
			return p
		} else {
			e.note("note: fetching the Brown corpus failed (%v)", err)
		}
	}
	c := filepath.Join(e.Root, smokeCorpusRelPath)
	e.note("note: using the small test corpus %s", c)
	return c
}

func findRoot(root string) (string, error) {
	if root == "" {
		root = os.Getenv("GOMINITRON_ROOT")
	}
	if root != "" {
		return filepath.Abs(root)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/gominitron/gominitron") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("reproduce: cannot find the gominitron checkout (set GOMINITRON_ROOT)")
		}
		dir = parent
	}
}

// fresh reports whether target exists and is newer than every source.
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
