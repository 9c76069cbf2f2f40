package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// encodePythonJSON writes v like Python's json.dumps(v, indent=2,
// sort_keys=True): floats keep a ".0" so integral floats stay floats when
// Python reads them back.
func encodePythonJSON(buf *bytes.Buffer, v any, indent string) error {
	inner := indent + "  "
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("non-finite float %g", x)
		}
		buf.WriteString(pythonFloat(x))
	case float32:
		return encodePythonJSON(buf, float64(x), indent)
	case json.Number:
		buf.WriteString(x.String())
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{\n")
		for i, k := range keys {
			kb, _ := json.Marshal(k)
			buf.WriteString(inner)
			buf.Write(kb)
			buf.WriteString(": ")
			if err := encodePythonJSON(buf, x[k], inner); err != nil {
				return err
			}
			if i < len(keys)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "}")
	case []any:
		return encodeList(buf, len(x), func(i int) any { return x[i] }, indent)
	case []string:
		return encodeList(buf, len(x), func(i int) any { return x[i] }, indent)
	case []int:
		return encodeList(buf, len(x), func(i int) any { return x[i] }, indent)
	case []float64:
		return encodeList(buf, len(x), func(i int) any { return x[i] }, indent)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

func encodeList(buf *bytes.Buffer, n int, at func(int) any, indent string) error {
	if n == 0 {
		buf.WriteString("[]")
		return nil
	}
	inner := indent + "  "
	buf.WriteString("[\n")
	for i := range n {
		buf.WriteString(inner)
		if err := encodePythonJSON(buf, at(i), inner); err != nil {
			return err
		}
		if i < n-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString(indent + "]")
	return nil
}

// pythonFloat formats f as Python's repr does (shortest round-trip digits,
// exponent outside [1e-4, 1e16), always a '.' or exponent).
func pythonFloat(f float64) string {
	a := math.Abs(f)
	if a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64) // e.g. 1e-05, 1e+16
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
