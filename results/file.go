package results

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gominitron/gominitron/internal/fileio"
)

// SaveJSON writes v as indented JSON to path atomically: the data goes to a
// temporary file in the same directory, which is synced and renamed over path,
// so a crash never leaves a half-written file at path.
func SaveJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("results: encoding %s: %w", path, err)
	}
	data = append(data, '\n')
	return fileio.WriteFile(path, data)
}

// LoadJSON reads the regular file path (at most fileio.MaxSideFileBytes) and
// decodes its JSON into v. Unknown fields are rejected, with their name, so
// that a typo in a hand-written file is reported rather than dropped.
func LoadJSON(path string, v any) error {
	data, err := fileio.ReadRegular(path, fileio.MaxSideFileBytes)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("results: decoding %s: %w", path, err)
	}
	return nil
}
