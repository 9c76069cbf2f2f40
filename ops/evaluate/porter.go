package evaluate

import "strings"

// PorterStem is the Porter (1980) suffix-stripping stemmer in the variant
// rouge_score uses when asked to stem (use_stemmer=True): NLTK's
// PorterStemmer in its default NLTK_EXTENSIONS mode. The word must be
// lower-case ASCII (RougeTokens' output); rouge_score stems only tokens longer
// than 3 characters (see RougeTokensStemmed).
//
// The departures from the published algorithm are NLTK's: a short table of
// irregular forms (skies→sky, dying→die, …); words of ≤ 2 letters are kept;
// step 1a maps a 4-letter "-ies" to "-ie" (dies→die); step 1b maps "-ied" to
// "-ie" (4 letters) or "-i"; step 1c turns y into i only after a consonant
// that is not the first letter; step 2 runs "-alli"→"-al" first and then step 2
// again, uses "-bli"→"-ble" for "-abli"→"-able", and adds "-fulli"→"-ful" and
// "-logi"→"-log" (the measure taken with the l); the cvc test also accepts a
// 2-letter vowel-consonant word.
func PorterStem(word string) string {
	if stem, ok := porterIrregular[word]; ok {
		return stem
	}
	if len(word) <= 2 {
		return word
	}
	w := porterStep1a(word)
	w = porterStep1b(w)
	w = porterStep1c(w)
	w = porterStep2(w)
	w = porterStep3(w)
	w = porterStep4(w)
	w = porterStep5a(w)
	return porterStep5b(w)
}

// porterIrregular are NLTK's irregular forms, stemmed without the steps.
var porterIrregular = map[string]string{
	"sky": "sky", "skies": "sky",
	"dying": "die", "lying": "lie", "tying": "tie",
	"news":    "news",
	"innings": "inning", "inning": "inning",
	"outings": "outing", "outing": "outing",
	"cannings": "canning", "canning": "canning",
	"howe":    "howe",
	"proceed": "proceed", "exceed": "exceed", "succeed": "succeed",
}

// porterConsonant reports whether w[i] is a consonant: not a, e, i, o, u,
// and y only when it follows a vowel or starts the word.
func porterConsonant(w string, i int) bool {
	switch w[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !porterConsonant(w, i-1)
	}
	return true
}

// porterMeasure is m in [C](VC){m}[V]: the number of vowel-consonant pairs.
func porterMeasure(stem string) int {
	m := 0
	for i := 1; i < len(stem); i++ {
		if !porterConsonant(stem, i-1) && porterConsonant(stem, i) {
			m++
		}
	}
	return m
}

func porterHasVowel(stem string) bool {
	for i := range len(stem) {
		if !porterConsonant(stem, i) {
			return true
		}
	}
	return false
}

func porterDoubleConsonant(w string) bool {
	n := len(w)
	return n >= 2 && w[n-1] == w[n-2] && porterConsonant(w, n-1)
}

// porterCVC: the word ends consonant-vowel-consonant and the last consonant
// is not w, x or y (or, NLTK's extension, is a 2-letter vowel-consonant word).
func porterCVC(w string) bool {
	n := len(w)
	if n >= 3 && porterConsonant(w, n-3) && !porterConsonant(w, n-2) && porterConsonant(w, n-1) &&
		w[n-1] != 'w' && w[n-1] != 'x' && w[n-1] != 'y' {
		return true
	}
	return n == 2 && !porterConsonant(w, 0) && porterConsonant(w, 1)
}

// porterRule replaces suffix by replacement when cond (nil = always) holds
// for the stem before the suffix.
type porterRule struct {
	suffix, replacement string
	cond                func(stem string) bool
}

// porterApply applies the first rule whose suffix the word ends with: when
// its condition fails the word is returned unchanged (later rules are not
// tried), as in the algorithm's "longest matching suffix" reading.
func porterApply(w string, rules []porterRule) string {
	for _, r := range rules {
		if !strings.HasSuffix(w, r.suffix) {
			continue
		}
		stem := w[:len(w)-len(r.suffix)]
		if r.cond == nil || r.cond(stem) {
			return stem + r.replacement
		}
		return w
	}
	return w
}

func porterPositive(stem string) bool { return porterMeasure(stem) > 0 }
func porterAboveOne(stem string) bool { return porterMeasure(stem) > 1 }

func porterStep1a(w string) string {
	if strings.HasSuffix(w, "ies") && len(w) == 4 {
		return w[:len(w)-1]
	}
	return porterApply(w, []porterRule{{"sses", "ss", nil}, {"ies", "i", nil}, {"ss", "ss", nil}, {"s", "", nil}})
}

func porterStep1b(w string) string {
	if strings.HasSuffix(w, "ied") {
		if len(w) == 4 {
			return w[:len(w)-1]
		}
		return w[:len(w)-2]
	}
	if strings.HasSuffix(w, "eed") {
		if stem := w[:len(w)-3]; porterMeasure(stem) > 0 {
			return stem + "ee"
		}
		return w
	}
	var stem string
	switch {
	case strings.HasSuffix(w, "ed") && porterHasVowel(w[:len(w)-2]):
		stem = w[:len(w)-2]
	case strings.HasSuffix(w, "ing") && porterHasVowel(w[:len(w)-3]):
		stem = w[:len(w)-3]
	default:
		return w
	}
	switch {
	case strings.HasSuffix(stem, "at"), strings.HasSuffix(stem, "bl"), strings.HasSuffix(stem, "iz"):
		return stem + "e"
	case porterDoubleConsonant(stem):
		if last := stem[len(stem)-1]; last == 'l' || last == 's' || last == 'z' {
			return stem
		}
		return stem[:len(stem)-1]
	case porterMeasure(stem) == 1 && porterCVC(stem):
		return stem + "e"
	}
	return stem
}

func porterStep1c(w string) string {
	return porterApply(w, []porterRule{{"y", "i", func(stem string) bool {
		return len(stem) > 1 && porterConsonant(stem, len(stem)-1)
	}}})
}

func porterStep2(w string) string {
	if strings.HasSuffix(w, "alli") && porterPositive(w[:len(w)-4]) {
		return porterStep2(w[:len(w)-4] + "al")
	}
	p := porterPositive
	return porterApply(w, []porterRule{
		{"ational", "ate", p}, {"tional", "tion", p}, {"enci", "ence", p}, {"anci", "ance", p},
		{"izer", "ize", p}, {"bli", "ble", p}, {"alli", "al", p}, {"entli", "ent", p}, {"eli", "e", p},
		{"ousli", "ous", p}, {"ization", "ize", p}, {"ation", "ate", p}, {"ator", "ate", p},
		{"alism", "al", p}, {"iveness", "ive", p}, {"fulness", "ful", p}, {"ousness", "ous", p},
		{"aliti", "al", p}, {"iviti", "ive", p}, {"biliti", "ble", p}, {"fulli", "ful", p},
		// The l of "logi" counts in the measure (geo-logi → geolog).
		{"logi", "log", func(string) bool { return porterPositive(w[:len(w)-3]) }},
	})
}

func porterStep3(w string) string {
	p := porterPositive
	return porterApply(w, []porterRule{
		{"icate", "ic", p}, {"ative", "", p}, {"alize", "al", p}, {"iciti", "ic", p},
		{"ical", "ic", p}, {"ful", "", p}, {"ness", "", p},
	})
}

func porterStep4(w string) string {
	g := porterAboveOne
	return porterApply(w, []porterRule{
		{"al", "", g}, {"ance", "", g}, {"ence", "", g}, {"er", "", g}, {"ic", "", g},
		{"able", "", g}, {"ible", "", g}, {"ant", "", g}, {"ement", "", g}, {"ment", "", g},
		{"ent", "", g},
		{"ion", "", func(stem string) bool {
			return porterAboveOne(stem) && (stem[len(stem)-1] == 's' || stem[len(stem)-1] == 't')
		}},
		{"ou", "", g}, {"ism", "", g}, {"ate", "", g}, {"iti", "", g}, {"ous", "", g},
		{"ive", "", g}, {"ize", "", g},
	})
}

func porterStep5a(w string) string {
	if !strings.HasSuffix(w, "e") {
		return w
	}
	stem := w[:len(w)-1]
	if m := porterMeasure(stem); m > 1 || (m == 1 && !porterCVC(stem)) {
		return stem
	}
	return w
}

func porterStep5b(w string) string {
	if strings.HasSuffix(w, "ll") && porterMeasure(w[:len(w)-1]) > 1 {
		return w[:len(w)-1]
	}
	return w
}
