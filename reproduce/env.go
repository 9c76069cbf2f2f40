package reproduce

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gominitron/gominitron/internal/fileio"
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
	smokeCorpusRelPath = "reproduce/testdata/corpus.jsonl"
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
	// Seeds > 0 overrides the scale's number of seeds (repeats of every
	// experiment with its own calibration draw and data order).
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
	root, err := data.FindCheckout(o.Root)
	if err != nil {
		return nil, err
	}
	if o.Out == "" {
		return nil, errors.New("reproduce: Options.Out is required")
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
	teacher := o.Teacher
	if teacher == "" {
		teacher = filepath.Join(root, DefaultTeacherDir)
	}
	if err := fileio.CheckResultsFolder(o.Out, teacher, o.Corpus, o.Data); err != nil {
		return nil, fmt.Errorf("reproduce: results folder: %w", err)
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
		// Packed once with the teacher's tokenizer, cached under OUT/data by
		// a hash of the corpus, tokenizer and split.
		if e.TokenFile, err = data.CorpusTokenFile([]string{e.Corpus}, data.CorpusOptions{Tokenizer: e.Tokenizer,
			ValFraction: valFrac, Seed: splitSeed, CacheDir: filepath.Join(o.Out, "data"), Log: e.Log}); err != nil {
			return nil, fmt.Errorf("reproduce: packing %s: %w", e.Corpus, err)
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
	p, err := e.corpusPath(filepath.Join("brown", "brown.jsonl"), data.FetchBrown)
	if err != nil {
		e.note("note: fetching the Brown corpus failed (%v)", err)
	}
	if p != "" {
		return p
	}
	c := filepath.Join(e.Root, smokeCorpusRelPath)
	e.note("note: using the small test corpus %s", c)
	return c
}

// fresh reports whether target exists and is newer than every source.

// corpusPath is the corpus file rel inside the data folder ($GOMINITRON_DATA,
// else <Root>/data), fetched there by fetch when missing; "" (and no fetch)
// at smoke scale or when the fetch fails (its error).
func (e *Env) corpusPath(rel string, fetch func(data.FetchOptions) (*data.Manifest, error)) (string, error) {
	dir := data.DataDirIn(e.Root)
	if p := filepath.Join(dir, rel); isFile(p) {
		return p, nil
	}
	if e.Scale == "smoke" {
		return "", nil
	}
	m, err := fetch(data.FetchOptions{Dir: dir, Log: e.Log})
	if err != nil {
		return "", err
	}
	return m.Path(), nil
}

func isFile(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
