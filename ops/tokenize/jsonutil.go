package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gominitron/gominitron/internal/fileio"
)

// jsonString quotes s as JSON without HTML escaping (so "<|x|>" stays readable).
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // strings always encode
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n"))
}

// WriteDir writes tokenizer.json and a tokenizer_config.json (BOS/EOS names)
// into dir, creating it if needed, and returns the tokenizer.json path.
func (tr *Trained) WriteDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tokenizer train: %w", err)
	}
	path := filepath.Join(dir, "tokenizer.json")
	if err := fileio.WriteFile(path, tr.JSON()); err != nil {
		return "", err
	}
	cfg := map[string]any{"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": tr.SpecialTokens[0], "add_bos_token": true}
	if len(tr.SpecialTokens) > 1 {
		cfg["eos_token"] = tr.SpecialTokens[1]
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cfg); err != nil {
		return "", err
	}
	if err := fileio.WriteFile(filepath.Join(dir, "tokenizer_config.json"), buf.Bytes()); err != nil {
		return "", err
	}
	return path, nil
}
