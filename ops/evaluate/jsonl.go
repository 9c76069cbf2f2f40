package evaluate

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/gominitron/gominitron/internal/fileio"
)

// maxJSONLineBytes is the longest line a task file may have (a few-shot
// prompt or a long article, far above any real example).
const maxJSONLineBytes = 64 << 20

// readJSONLines parses every non-blank line of the JSON Lines file path with
// parse (index counts the items parsed so far). Errors name the file and the
// line; a file with no item is an error.
func readJSONLines[T any](path string, parse func(index int, line []byte) (T, error)) ([]T, error) {
	f, _, err := fileio.OpenRegular(path)
	if err != nil {
		return nil, fmt.Errorf("evaluate: reading task: %w", err)
	}
	defer f.Close()
	var items []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxJSONLineBytes)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		item, err := parse(len(items), b)
		if err != nil {
			return nil, fmt.Errorf("evaluate: %s line %d: %w", path, line, err)
		}
		items = append(items, item)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("evaluate: reading %s: %w", path, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("evaluate: %s holds no examples", path)
	}
	return items, nil
}
