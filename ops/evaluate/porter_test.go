package evaluate

import (
	"bufio"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestPorterStemMatchesNLTK: every word of testdata/porter_nltk.tsv (5,836
// Brown-corpus words and the rules' own examples) stems as NLTK 3.8's
// PorterStemmer() stems it — the stemmer rouge_score calls — the expected
// stems written by NLTK itself (see the file's header).
func TestPorterStemMatchesNLTK(t *testing.T) {
	f, err := os.Open("testdata/porter_nltk.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, bad := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		word, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("malformed line %q", line)
		}
		n++
		if got := PorterStem(word); got != want {
			bad++
			if bad <= 20 {
				t.Errorf("PorterStem(%q) = %q, NLTK gives %q", word, got, want)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 5000 {
		t.Fatalf("read only %d words", n)
	}
	if bad > 0 {
		t.Errorf("%d of %d words differ from NLTK", bad, n)
	}
}

// TestRougeStemmingAgainstPublishedValues: rouge_score's tests with
// use_stemmer=True (ROUGE-1.5.5 runs), written here by hand: ROUGE-1 on
// line 2 of its target/prediction files (the unigram overlap rises from 17
// to 18 tokens with stemming; counted here from Rouge.Tokens) and ROUGE-Lsum
// on pyrouge_files/target_multi.0.txt vs prediction_multi.0.txt.
func TestRougeStemmingAgainstPublishedValues(t *testing.T) {
	const (
		target1     = "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n"
		prediction1 = "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n"
		targetMulti = "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n" +
			"KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n" +
			"NhETebUbBk'er WOvoHMTjSRizKgH'vHiing Xu,hWxfs VkNE QhgKiLHE -HidivzoM.dO anhtion jbLQiSGDTCsuhREebUaKM dv J dVN tmbOT\n" +
			"vMR HDm,xOAetion D,tion HJtodT.mHl UIv-p VjWH'BdyWjnfGU-OjT aEMdFICyLWfQMtion wEMfdOKing AwkeKbO 'DxqNOHBH qKtVvm OYJl mM\n"
		predictionMulti = "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n" +
			"n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n" +
			"xfs VkJE QhgKiLHE -HidivzoM.dO anhing jbLQiSGDTCsuhREebUaKM dv J\n" +
			"VjWH'BdyWjnfGU-OjTNaEMdFICyLWfQMing wEMfdOKijg AwkeKbO 'DxqNO\n"
	)
	stem := Rouge{UseStemmer: true}
	check := func(name string, got RougeScore, p, r, f float64) {
		t.Helper()
		if math.Abs(got.Precision-p) > rougeTol || math.Abs(got.Recall-r) > rougeTol || math.Abs(got.F-f) > rougeTol {
			t.Errorf("%s: got P %.5f R %.5f F %.5f, want P %.5f R %.5f F %.5f", name, got.Precision, got.Recall, got.F, p, r, f)
		}
	}
	// ROUGE-1: clipped unigram overlap (rouge_score's _score_ngrams for n = 1).
	rouge1 := func(r Rouge, target, prediction string) RougeScore {
		tc := map[string]int{}
		tt, pt := r.Tokens(target), r.Tokens(prediction)
		for _, w := range tt {
			tc[w]++
		}
		hits := 0
		for _, w := range pt {
			if tc[w] > 0 {
				tc[w]--
				hits++
			}
		}
		return newRougeScore(float64(hits), len(pt), len(tt))
	}
	check("rouge1 line 2, no stemming", rouge1(Rouge{}, target1, prediction1), 0.65385, 0.40476, 0.50000)
	check("rouge1 line 2, stemming", rouge1(stem, target1, prediction1), 0.69231, 0.42857, 0.52941)
	check("rougeLsum multi, stemming", stem.Lsum(targetMulti, predictionMulti), 0.66667, 0.36538, 0.47205)
	// Stemming is off by default and only touches tokens longer than 3 characters.
	if got := RougeTokens("Running cats ran"); !slices.Equal(got, []string{"running", "cats", "ran"}) {
		t.Errorf("default tokens = %q", got)
	}
	if got := stem.Tokens("Running cats ran dies"); !slices.Equal(got, []string{"run", "cat", "ran", "die"}) {
		t.Errorf("stemmed tokens = %q", got)
	}
}
