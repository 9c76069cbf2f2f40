package tokenize

import (
	"strings"
	"unicode/utf8"
)

// GPT-2's byte ↔ unicode table: every byte gets a printable character, so a
// byte-level BPE works on text without spaces or control characters.
var (
	byteToRune   [256]rune
	byteToString [256]string
	runeToByte   = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		byteToString[b] = string(byteToRune[b])
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelEncode maps every byte of s to its byte-level character.
func byteLevelEncode(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		sb.WriteString(byteToString[s[i]])
	}
	return sb.String()
}

// byteLevelAlphabet returns the 256 byte-level characters sorted by code point.
func byteLevelAlphabet() []rune {
	out := make([]rune, 0, 256)
	for r := rune(0); r < 512; r++ {
		if _, ok := runeToByte[r]; ok {
			out = append(out, r)
		}
	}
	return out
}

// byteLevelDecodeToken appends the bytes a byte-level token stands for; a token
// with any character outside the table is taken verbatim (as tokenizers does).
func byteLevelDecodeToken(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], tok...)
		}
		dst = append(dst, b)
	}
	return dst
}

// utf8Lossy converts bytes to a string replacing invalid sequences the way
// Rust's String::from_utf8_lossy does (one U+FFFD per maximal invalid prefix).
func utf8Lossy(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			sb.WriteRune(utf8.RuneError)
			// Rust skips the maximal prefix of a valid sequence that failed.
			b = b[invalidPrefixLen(b):]
			continue
		}
		sb.WriteRune(r)
		b = b[size:]
	}
	return sb.String()
}

// invalidPrefixLen is the length of the maximal prefix of b that could start a
// valid UTF-8 sequence (at least 1), following the WHATWG/Rust "substitution of
// maximal subparts" rule.
func invalidPrefixLen(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		x := b[n]
		if k == 0 {
			if x < lo || x > hi {
				return n
			}
		} else if x < 0x80 || x > 0xBF {
			return n
		}
		n++
	}
	return n
}
