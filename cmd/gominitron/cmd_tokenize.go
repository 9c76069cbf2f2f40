package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gominitron/gominitron/ops/data"
	"github.com/gominitron/gominitron/ops/tokenize"
)

// writeJSON prints v as one JSON line on stdout (no HTML escaping).
func writeJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// parseInterleaved parses flags that may come after positional arguments
// ("data fetch brown --dir D") and returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runTokenize(args []string) error {
	fs := newFlagSet("tokenize", "usage: gominitron tokenize --tokenizer PATH (--text STR | --decode 1,2,3 | --lines FILE)")
	path := fs.String("tokenizer", "", "tokenizer.json, tokenizer.model, or a model directory holding one")
	text := fs.String("text", "", "text to encode")
	noSpecial := fs.Bool("no-special", false, "encode without the post-processor's special tokens (e.g. BOS)")
	decode := fs.String("decode", "", "comma-separated ids to decode instead of encoding")
	skipSpecial := fs.Bool("skip-special", false, "when decoding, drop special tokens")
	lines := fs.String("lines", "", "encode every line of this file: one JSON {\"text\", \"ids\", \"decoded\"} per line")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("--tokenizer is required")
	}
	tok, err := tokenize.Load(*path)
	if err != nil {
		return err
	}
	textSet := false
	fs.Visit(func(f *flag.Flag) { textSet = textSet || f.Name == "text" })
	if !textSet && *decode == "" && *lines == "" {
		return errors.New("give --text STR, --decode IDS or --lines FILE")
	}
	if *lines != "" {
		return tokenizeLines(tok, *lines, !*noSpecial)
	}
	if *decode != "" {
		var ids []int32
		for i, f := range strings.Split(*decode, ",") {
			v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil {
				return fmt.Errorf("--decode: item %d %q is not an integer id", i+1, f)
			}
			ids = append(ids, int32(v))
		}
		s, err := tok.Decode(ids, *skipSpecial)
		if err != nil {
			return err
		}
		return writeJSON(map[string]string{"text": s})
	}
	ids := tok.Encode(*text, !*noSpecial)
	if ids == nil {
		ids = []int32{}
	}
	return writeJSON(map[string][]int32{"ids": ids})
}

// tokenizeLines encodes each line of a file (for cross-checks against Hugging
// Face tokenizers, see scripts/check_tokenizer_hf.py).
func tokenizeLines(tok *tokenize.Tokenizer, path string, addSpecial bool) error {
	return data.ReadDocuments(data.Source{Path: path, Format: "text", TextMode: "line"}, func(d data.Document) error {
		ids := tok.Encode(d.Text, addSpecial)
		dec, err := tok.Decode(ids, true)
		if err != nil {
			return err
		}
		return writeJSON(map[string]any{"text": d.Text, "ids": ids, "decoded": dec})
	})
}

func runTokenizerTrain(args []string) error {
	fs := newFlagSet("tokenizer train", "usage: gominitron tokenizer train --vocab N --out DIR [flags] FILES...")
	vocab := fs.Int("vocab", 0, "vocabulary size (special tokens + 256 bytes + merges)")
	out := fs.String("out", "", "output directory (tokenizer.json + tokenizer_config.json)")
	field := fs.String("field", "text", "JSON Lines field / Parquet column with the text")
	format := fs.String("format", "auto", "input format: auto, text, jsonl, parquet")
	minFreq := fs.Int64("min-frequency", 0, "do not merge pairs seen fewer times")
	inputs, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := checkFlags(fs, nonNegative("vocab"), nonNegative("min-frequency")); err != nil {
		return err
	}
	if *vocab == 0 || *out == "" || len(inputs) == 0 {
		return errors.New("usage: gominitron tokenizer train --vocab N --out DIR FILES...")
	}
	if err := checkOutputFlag("out", *out, inputs...); err != nil {
		return err
	}
	if err := refuseModelFolder("out", *out); err != nil {
		return err
	}
	tr, err := tokenize.NewTrainer(tokenize.TrainOptions{VocabSize: *vocab, MinFrequency: *minFreq})
	if err != nil {
		return err
	}
	start := time.Now()
	var docs, bytes int64
	for _, in := range inputs {
		err := data.ReadDocuments(data.Source{Path: in, Format: *format, Field: *field}, func(d data.Document) error {
			tr.Add(d.Text)
			docs++
			bytes += int64(len(d.Text))
			return nil
		})
		if err != nil {
			return err
		}
	}
	counted := time.Since(start)
	res, err := tr.Train()
	if err != nil {
		return err
	}
	path, err := res.WriteDir(*out)
	if err != nil {
		return err
	}
	return writeJSON(map[string]any{"tokenizer": path, "vocab": len(res.Vocab), "merges": len(res.Merges),
		"documents": docs, "text_bytes": bytes, "distinct_words": tr.NumWords(),
		"count_seconds": counted.Seconds(), "total_seconds": time.Since(start).Seconds()})
}
