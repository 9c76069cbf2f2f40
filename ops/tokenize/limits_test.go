package tokenize

import (
	"runtime"
	"strings"
	"testing"
)

// TestHugeTokenIDRefusedBeforeSizing: a 61-byte tokenizer.json whose one
// vocab id is 2147483647 used to size a 2^31-entry table (over 32 GiB). It is
// refused before any table is sized by it, and loading stays small.
func TestHugeTokenIDRefusedBeforeSizing(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"vocab id 2^31-1", `{"model":{"type":"BPE","vocab":{"a":2147483647},"merges":[]}}`, `vocab token "a" has id 2147483647, implausibly large for 1 tokens (limit 1026`},
		{"vocab id just past the gap limit", `{"model":{"type":"BPE","vocab":{"a":0,"b":1029},"merges":[]}}`, `vocab token "b" has id 1029`},
		{"added token id 2^30", `{"added_tokens":[{"id":1073741824,"content":"<s>","special":true}],"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`,
			`added token "<s>" has id 1073741824, implausibly large`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ParseJSON([]byte(tc.json), "tokenizer.json")
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "tokenizer.json") {
				t.Fatalf("err = %v, want it to name tokenizer.json and contain %q", err, tc.want)
			}
			const maxAllocBytes = 1 << 20
			if grew := after.TotalAlloc - before.TotalAlloc; grew > maxAllocBytes {
				t.Errorf("loading allocated %d bytes before refusing (limit %d)", grew, maxAllocBytes)
			}
		})
	}
	// Ids with gaps stay accepted up to the limit: 2 tokens → 2·2+1024 = 1028.
	if _, err := ParseJSON([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1028},"merges":[]}}`), "gaps.json"); err != nil {
		t.Errorf("id at the limit refused: %v", err)
	}
}
