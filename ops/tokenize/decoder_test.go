package tokenize

import (
	"slices"
	"testing"
)

// TestDecoders replays the unit tests of tokenizers' decoders.
func TestDecoders(t *testing.T) {
	cases := []struct {
		name string
		d    decoder
		in   []string
		want []string
	}{
		{"bytefallback plain", byteFallbackDecoder{}, []string{"Hey", "friend!"}, []string{"Hey", "friend!"}},
		{"bytefallback a", byteFallbackDecoder{}, []string{"<0x61>"}, []string{"a"}},
		{"bytefallback partial", byteFallbackDecoder{}, []string{"<0xE5>"}, []string{"\uFFFD"}},
		{"bytefallback partial2", byteFallbackDecoder{}, []string{"<0xE5>", "<0x8f>"}, []string{"\uFFFD", "\uFFFD"}},
		{"bytefallback 叫", byteFallbackDecoder{}, []string{"<0xE5>", "<0x8f>", "<0xab>", "a"}, []string{"叫", "a"}},
		{"bytefallback broken", byteFallbackDecoder{}, []string{"<0xE5>", "<0x8f>", "a"}, []string{"\uFFFD", "\uFFFD", "a"}},
		{"strip start", stripDecoder{content: 'H', start: 1}, []string{"Hey", " friend!", "HHH"}, []string{"ey", " friend!", "HH"}},
		{"strip stop", stripDecoder{content: 'y', stop: 1}, []string{"Hey", " friend!"}, []string{"He", " friend!"}},
		{"metaspace always", metaspaceDecoder{replacement: "▁", prependScheme: "always"}, []string{"▁Hey", "▁friend!"}, []string{"Hey", " friend!"}},
		{"metaspace never", metaspaceDecoder{replacement: "▁", prependScheme: "never"}, []string{"▁Hey", "▁friend!"}, []string{" Hey", " friend!"}},
		{"metaspace first token", metaspaceDecoder{replacement: "▁", prependScheme: "first"}, []string{"▁▁a▁b", "▁c"}, []string{"ab", " c"}},
		{"fuse", fuseDecoder{}, []string{"a", "b", "c"}, []string{"abc"}},
		{"bytelevel", byteLevelDecoder{}, []string{"Hello", "Ġmy", "Ġfriend", ","}, []string{"Hello my friend,"}},
		{"bytelevel invalid utf8", byteLevelDecoder{}, []string{"Ã", "a"}, []string{"\uFFFDa"}},
	}
	for _, c := range cases {
		if got := c.d.decodeChain(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q want %q", c.name, got, c.want)
		}
	}
}
