package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/gominitron/gominitron/internal/fileio"
)

// Document is one unit of text; Where names its origin for messages
// ("file.jsonl:12", "file.parquet row 7", "file.txt").
type Document struct {
	Text  string
	Where string
}

// Source is where documents come from.
type Source struct {
	Path string // file or folder (folders are walked recursively, in name order)
	// Format: "" or "auto" (by extension: .jsonl/.ndjson → jsonl, .parquet →
	// parquet, anything else → text), "text", "jsonl", "parquet".
	Format string
	// Field is the JSON field / Parquet column holding the text (default "text").
	Field string
	// TextMode for text files: "file" (default; one document per file),
	// "paragraph" (blank-line separated) or "line" (one document per line).
	TextMode string
}

// maxLineBytes bounds one JSON Lines record / text line.
const maxLineBytes = 256 << 20

// ReadDocuments streams the documents of src to fn in a fixed order. Empty
// documents inside a file are skipped; an empty file is an error.
func ReadDocuments(src Source, fn func(Document) error) error {
	st, err := os.Stat(src.Path)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	if !st.IsDir() {
		return readFile(src, src.Path, fn)
	}
	var files []string
	err = filepath.WalkDir(src.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && p != src.Path {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("corpus %s: %w", src.Path, err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return fmt.Errorf("corpus %s: folder has no files", src.Path)
	}
	for _, f := range files {
		if err := readFile(src, f, fn); err != nil {
			return err
		}
	}
	return nil
}

func formatOf(src Source, path string) string {
	if src.Format != "" && src.Format != "auto" {
		return src.Format
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".parquet":
		return "parquet"
	}
	return "text"
}

func fieldOf(src Source) string {
	if src.Field == "" {
		return "text"
	}
	return src.Field
}

func readFile(src Source, path string, fn func(Document) error) error {
	st, err := fileio.CheckRegular(path)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	if st.Size() == 0 {
		return fmt.Errorf("corpus %s: empty file", path)
	}
	switch f := formatOf(src, path); f {
	case "text":
		return readText(src, path, fn)
	case "jsonl":
		return readJSONL(path, fieldOf(src), fn)
	case "parquet":
		return readParquet(path, fieldOf(src), fn)
	default:
		return fmt.Errorf("corpus %s: unknown format %q (want auto, text, jsonl or parquet)", path, f)
	}
}

// lineReader yields lines (without the newline) with 1-based numbers and
// rejects invalid UTF-8 naming the line.
type lineReader struct {
	path string
	r    *bufio.Reader
	line int
}

func (l *lineReader) next() (string, error) {
	var buf []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLineBytes {
			return "", fmt.Errorf("corpus %s:%d: line longer than %d bytes", l.path, l.line+1, maxLineBytes)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) == 0 {
			return "", io.EOF
		}
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("corpus %s:%d: %w", l.path, l.line+1, err)
		}
		break
	}
	l.line++
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	if !utf8.Valid(buf) {
		col := 0
		for col < len(buf) {
			r, w := utf8.DecodeRune(buf[col:])
			if r == utf8.RuneError && w <= 1 {
				break
			}
			col += w
		}
		return "", fmt.Errorf("corpus %s:%d: invalid UTF-8 at byte %d of the line", l.path, l.line, col+1)
	}
	return string(buf), nil
}

// forEachLine opens path and calls fn with each line (without its newline,
// checked to be UTF-8) and its 1-based number.
func forEachLine(path string, fn func(line string, number int) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	lr := &lineReader{path: path, r: bufio.NewReaderSize(f, 1<<20)}
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(line, lr.line); err != nil {
			return err
		}
	}
}

func readText(src Source, path string, fn func(Document) error) error {
	mode := src.TextMode
	if mode == "" {
		mode = "file"
	}
	if mode != "file" && mode != "paragraph" && mode != "line" {
		return fmt.Errorf("corpus %s: unknown text mode %q (want file, paragraph or line)", path, mode)
	}
	var doc strings.Builder
	docStart, sent := 0, 0
	flush := func() error {
		text := doc.String()
		doc.Reset()
		if strings.TrimSpace(text) == "" {
			return nil
		}
		where := path
		if mode != "file" {
			where = fmt.Sprintf("%s:%d", path, docStart)
		}
		sent++
		return fn(Document{Text: text, Where: where})
	}
	err := forEachLine(path, func(line string, number int) error {
		switch mode {
		case "line":
			docStart = number
			doc.WriteString(line)
			return flush()
		case "paragraph":
			if strings.TrimSpace(line) == "" {
				return flush()
			}
			if doc.Len() == 0 {
				docStart = number
			} else {
				doc.WriteByte('\n')
			}
		case "file":
			if number > 1 {
				doc.WriteByte('\n')
			}
		}
		doc.WriteString(line)
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if sent == 0 {
		return fmt.Errorf("corpus %s: no text (only whitespace)", path)
	}
	return nil
}

func readJSONL(path, field string, fn func(Document) error) error {
	records := 0
	err := forEachLine(path, func(line string, number int) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		records++
		var rec map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return fmt.Errorf("corpus %s:%d: invalid JSON: %v", path, number, err)
		}
		raw, ok := rec[field]
		if !ok {
			keys := slices.Sorted(maps.Keys(rec))
			return fmt.Errorf("corpus %s:%d: no field %q (fields: %s); choose one with Source.Field", path, number, field, strings.Join(keys, ", "))
		}
		if string(raw) == "null" {
			return nil
		}
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return fmt.Errorf("corpus %s:%d: field %q is not a string", path, number, field)
		}
		if strings.TrimSpace(text) == "" {
			return nil
		}
		return fn(Document{Text: text, Where: fmt.Sprintf("%s:%d", path, number)})
	})
	if err != nil {
		return err
	}
	if records == 0 {
		return fmt.Errorf("corpus %s: no JSON records", path)
	}
	return nil
}

func readParquet(path, column string, fn func(Document) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("corpus %s: not a Parquet file: %w", path, err)
	}
	leaf, ok := pf.Schema().Lookup(strings.Split(column, ".")...)
	if !ok {
		var cols []string
		for _, c := range pf.Schema().Columns() {
			cols = append(cols, strings.Join(c, "."))
		}
		return fmt.Errorf("corpus %s: no column %q (columns: %s); choose one with Source.Field", path, column, strings.Join(cols, ", "))
	}
	if leaf.MaxRepetitionLevel > 0 || leaf.Node.Type().Kind() != parquet.ByteArray {
		return fmt.Errorf("corpus %s: column %q is not a string column (type %v)", path, column, leaf.Node.Type())
	}
	row := int64(0)
	buf := make([]parquet.Value, 256)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			page, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return fmt.Errorf("corpus %s row %d: %w", path, row, err)
			}
			vr := page.Values()
			for {
				n, err := vr.ReadValues(buf)
				for _, v := range buf[:n] {
					r := row
					row++
					if v.IsNull() {
						continue
					}
					b := v.ByteArray()
					if !utf8.Valid(b) {
						parquet.Release(page)
						pages.Close()
						return fmt.Errorf("corpus %s row %d: column %q is not valid UTF-8", path, r, column)
					}
					if len(bytes.TrimSpace(b)) == 0 {
						continue
					}
					if err := fn(Document{Text: string(b), Where: fmt.Sprintf("%s row %d", path, r)}); err != nil {
						parquet.Release(page)
						pages.Close()
						return err
					}
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					parquet.Release(page)
					pages.Close()
					return fmt.Errorf("corpus %s row %d: %w", path, row, err)
				}
			}
			parquet.Release(page)
		}
		pages.Close()
	}
	if row == 0 {
		return fmt.Errorf("corpus %s: no rows", path)
	}
	return nil
}
