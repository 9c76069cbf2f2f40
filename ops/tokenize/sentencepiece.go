package tokenize

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// SentencePiece piece types (sentencepiece_model.proto).
const (
	spNormal      = 1
	spUnknown     = 2
	spControl     = 3
	spUserDefined = 4
	spUnused      = 5
	spByte        = 6
)

// spPiece is one vocabulary entry of a tokenizer.model.
type spPiece struct {
	piece string
	score float32
	typ   int
}

// spModelProto holds the fields of ModelProto we use (proto2 defaults applied).
type spModelProto struct {
	pieces                 []spPiece
	modelType              int  // TrainerSpec.model_type = 3 (1 unigram, 2 bpe)
	byteFallback           bool // TrainerSpec.byte_fallback = 35
	treatWhitespaceSuffix  bool // TrainerSpec.treat_whitespace_as_suffix = 24
	unkID, bosID, eosID    int  // TrainerSpec 40, 41, 42
	normName               string
	charsmap               []byte
	addDummyPrefix         bool // NormalizerSpec 3
	removeExtraWhitespaces bool // NormalizerSpec 4
	escapeWhitespaces      bool // NormalizerSpec 5
}

func decodeSPProto(b []byte) (*spModelProto, error) {
	m := &spModelProto{modelType: 1, unkID: 0, bosID: 1, eosID: 2, normName: "identity",
		addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true}
	err := forEachField(b, func(num protowire.Number, typ protowire.Type, v uint64, sub []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			p := spPiece{typ: spNormal}
			err := forEachField(sub, func(n protowire.Number, t protowire.Type, v uint64, s []byte) error {
				switch {
				case n == 1 && t == protowire.BytesType:
					p.piece = string(s)
				case n == 2 && t == protowire.Fixed32Type:
					p.score = math.Float32frombits(uint32(v))
				case n == 3 && t == protowire.VarintType:
					p.typ = int(v)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(m.pieces), err)
			}
			m.pieces = append(m.pieces, p)
		case num == 2 && typ == protowire.BytesType:
			return forEachField(sub, func(n protowire.Number, t protowire.Type, v uint64, _ []byte) error {
				if t != protowire.VarintType {
					return nil
				}
				switch n {
				case 3:
					m.modelType = int(v)
				case 24:
					m.treatWhitespaceSuffix = v != 0
				case 35:
					m.byteFallback = v != 0
				case 40:
					m.unkID = int(int32(v))
				case 41:
					m.bosID = int(int32(v))
				case 42:
					m.eosID = int(int32(v))
				}
				return nil
			})
		case num == 3 && typ == protowire.BytesType:
			return forEachField(sub, func(n protowire.Number, t protowire.Type, v uint64, s []byte) error {
				switch {
				case n == 1 && t == protowire.BytesType:
					m.normName = string(s)
				case n == 2 && t == protowire.BytesType:
					m.charsmap = s
				case n == 3 && t == protowire.VarintType:
					m.addDummyPrefix = v != 0
				case n == 4 && t == protowire.VarintType:
					m.removeExtraWhitespaces = v != 0
				case n == 5 && t == protowire.VarintType:
					m.escapeWhitespaces = v != 0
				}
				return nil
			})
		}
		return nil
	})
	return m, err
}

// forEachField walks a protobuf message; v carries varint/fixed values, sub the
// bytes of length-delimited fields.
func forEachField(b []byte, f func(protowire.Number, protowire.Type, uint64, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v uint64
		var sub []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			sub, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, sub); err != nil {
			return err
		}
	}
	return nil
}

const spSpace = "▁"

// spNormalizer is SentencePiece's identity normalizer with its whitespace
// options.
type spNormalizer struct {
	addDummyPrefix, removeExtra, escape bool
}

func (n spNormalizer) normalize(s string) string {
	if n.removeExtra {
		s = strings.Trim(s, " ")
		for strings.Contains(s, "  ") {
			s = strings.ReplaceAll(s, "  ", " ")
		}
	}
	if s == "" {
		return s
	}
	if n.addDummyPrefix {
		s = " " + s
	}
	if n.escape {
		s = strings.ReplaceAll(s, " ", spSpace)
	}
	return s
}

// spBPE is SentencePiece's bpe_model.cc Encode: merges the adjacent pair whose
// concatenation is a vocabulary piece with the highest score (ties: leftmost).
type spBPE struct {
	pieces       map[string]int32 // NORMAL, USER_DEFINED, UNUSED
	reserved     map[string]int32 // CONTROL, UNKNOWN, BYTE
	scores       []float32
	types        []int
	userDefined  []string // longest first
	unkID        int32
	byteFallback bool
	byteIDs      [256]int32
}

func (m *spBPE) tokenize(dst []int32, text string) []int32 {
	type sym struct {
		s          string
		prev, next int
		freeze     bool
	}
	var syms []sym
	for i := 0; i < len(text); {
		n, freeze := 0, false
		for _, u := range m.userDefined {
			if strings.HasPrefix(text[i:], u) {
				n, freeze = len(u), true
				break
			}
		}
		if n == 0 {
			_, n = utf8.DecodeRuneInString(text[i:])
		}
		syms = append(syms, sym{s: text[i : i+n], prev: len(syms) - 1, next: len(syms) + 1, freeze: freeze})
		i += n
	}
	if len(syms) == 0 {
		return dst
	}
	syms[len(syms)-1].next = -1
	agenda := &spAgenda{}
	revMerge := map[string][2]string{}
	add := func(l, r int) {
		if l < 0 || r < 0 || syms[l].freeze || syms[r].freeze {
			return
		}
		s := syms[l].s + syms[r].s
		id, ok := m.pieces[s]
		if !ok {
			return
		}
		heap.Push(agenda, spPair{l, r, m.scores[id], len(s)})
		if m.types[id] == spUnused {
			revMerge[s] = [2]string{syms[l].s, syms[r].s}
		}
	}
	for i := 1; i < len(syms); i++ {
		add(i-1, i)
	}
	for agenda.Len() > 0 {
		top := heap.Pop(agenda).(spPair)
		l, r := &syms[top.left], &syms[top.right]
		if l.s == "" || r.s == "" || len(l.s)+len(r.s) != top.size {
			continue
		}
		l.s += r.s
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = top.left
		}
		r.s = ""
		add(l.prev, top.left)
		add(top.left, l.next)
	}
	var emit func(s string)
	emit = func(s string) {
		id, ok := m.pieces[s]
		if ok && m.types[id] == spUnused {
			if parts, ok := revMerge[s]; ok {
				emit(parts[0])
				emit(parts[1])
				return
			}
		}
		if !ok {
			id, ok = m.reserved[s]
		}
		if !ok || id == m.unkID {
			if m.byteFallback {
				for k := 0; k < len(s); k++ {
					dst = append(dst, m.byteIDs[s[k]])
				}
				return
			}
			id = m.unkID
		}
		dst = append(dst, id)
	}
	for i := 0; i >= 0; i = syms[i].next {
		emit(syms[i].s)
	}
	return dst
}

// parseSentencePiece builds a Tokenizer from a tokenizer.model (BPE type,
// identity normalization, as Llama 2 / Mistral / TinyLlama ship).
func parseSentencePiece(data []byte, name string) (*Tokenizer, error) {
	wrap := func(err error) error { return fmt.Errorf("sentencepiece model %s: %w", name, err) }
	p, err := decodeSPProto(data)
	if err != nil {
		return nil, wrap(err)
	}
	if len(p.pieces) == 0 {
		return nil, wrap(errors.New("no pieces (not a SentencePiece model?)"))
	}
	if p.modelType != 2 {
		return nil, wrap(fmt.Errorf("model_type %d is not supported (only BPE = 2)", p.modelType))
	}
	if p.treatWhitespaceSuffix {
		return nil, wrap(errors.New("treat_whitespace_as_suffix is not supported"))
	}
	if (p.normName != "identity" && p.normName != "") || len(p.charsmap) > 0 {
		return nil, wrap(fmt.Errorf("normalizer %q (precompiled charsmap of %d bytes) is not supported: only identity, as Llama 2 / Mistral / TinyLlama use; load their tokenizer.json instead", p.normName, len(p.charsmap)))
	}
	m := &spBPE{pieces: map[string]int32{}, reserved: map[string]int32{}, unkID: int32(p.unkID), byteFallback: p.byteFallback}
	t := &Tokenizer{path: name, model: m, tokenToID: map[string]int32{}, special: map[int32]bool{}, bos: -1, eos: -1}
	for i := range m.byteIDs {
		m.byteIDs[i] = -1
	}
	for i, pc := range p.pieces {
		id := int32(i)
		m.scores = append(m.scores, pc.score)
		m.types = append(m.types, pc.typ)
		t.setToken(id, pc.piece)
		switch pc.typ {
		case spNormal, spUnused:
			m.pieces[pc.piece] = id
		case spUserDefined:
			m.pieces[pc.piece] = id
			m.userDefined = append(m.userDefined, pc.piece)
		case spControl, spUnknown:
			m.reserved[pc.piece] = id
			if pc.typ == spControl {
				t.special[id] = true
			}
		case spByte:
			m.reserved[pc.piece] = id
			var b int
			if _, err := fmt.Sscanf(pc.piece, "<0x%02X>", &b); err != nil || b < 0 || b > 255 {
				return nil, wrap(fmt.Errorf("byte piece %d %q is not <0xNN>", i, pc.piece))
			}
			m.byteIDs[b] = id
		default:
			return nil, wrap(fmt.Errorf("piece %d %q has unknown type %d", i, pc.piece, pc.typ))
		}
	}
	sortLongestFirst(m.userDefined)
	if p.byteFallback {
		for b, id := range m.byteIDs {
			if id < 0 {
				return nil, wrap(fmt.Errorf("byte_fallback is set but byte piece <0x%02X> is missing", b))
			}
		}
	}
	n := int32(len(p.pieces))
	if m.unkID < 0 || m.unkID >= n {
		return nil, wrap(fmt.Errorf("unk_id %d is outside the vocabulary (size %d)", m.unkID, n))
	}
	for _, id := range []int{p.bosID, p.eosID} {
		if id >= int(n) {
			return nil, wrap(fmt.Errorf("special id %d is outside the vocabulary (size %d)", id, n))
		}
	}
	t.bos, t.eos = int32(p.bosID), int32(p.eosID)
	t.normalizer = spNormalizer{addDummyPrefix: p.addDummyPrefix, removeExtra: p.removeExtraWhitespaces, escape: p.escapeWhitespaces}
	if t.bos >= 0 {
		t.post = templateProcessor{single: []templatePiece{{ids: []int32{t.bos}}, {sequence: true}}}
	}
	dec := decoderSeq{replaceDecoder{literalMatcher{spSpace}, " "}, byteFallbackDecoder{}, fuseDecoder{}}
	if p.addDummyPrefix {
		dec = append(dec, stripDecoder{content: ' ', start: 1})
	}
	t.decoder = dec
	return t, nil
}

func sortLongestFirst(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len(s[j]) > len(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// spPair is a candidate merge; spAgenda orders them by score (highest first),
// then by left position (leftmost first), like bpe_model.cc's agenda.
type spPair struct {
	left, right int
	score       float32
	size        int
}

type spAgenda []spPair

func (a spAgenda) Len() int { return len(a) }
func (a spAgenda) Less(i, j int) bool {
	return a[i].score > a[j].score || (a[i].score == a[j].score && a[i].left < a[j].left)
}
func (a spAgenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *spAgenda) Push(x any)   { *a = append(*a, x.(spPair)) }
func (a *spAgenda) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}
