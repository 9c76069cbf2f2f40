package evaluate

import (
	"fmt"
	"math"
	"strconv"
)

// MC2 is truthfulqa_mc2's score of one question, as the harness's
// process_results_mc2 computes it: the choices' probabilities exp(loglik)
// normalised to sum to 1, summed over the true choices (labels[i] == 1).
// The log-likelihoods are shifted by their maximum before exp, which leaves
// the ratio unchanged and avoids underflow.
func MC2(logLiks []float64, labels []int) float64 {
	hi := math.Inf(-1)
	for _, ll := range logLiks {
		hi = max(hi, ll)
	}
	var all, trues float64
	for i, ll := range logLiks {
		p := math.Exp(ll - hi)
		all += p
		if labels[i] == 1 {
			trues += p
		}
	}
	return trues / all
}

// MCTaskResult turns a multiple-choice result into the common TaskResult,
// one Sample per doc: acc and acc_norm, or for truthfulqa_mc2 the harness's
// "acc" = MC2 (also reported as "mc2", the blog's name). Doc ids are their index in the file.
func MCTaskResult(format Format, docs []Doc, r *MCResult) (*TaskResult, error) {
	if len(r.LogLiks) != r.N || len(r.Contexts) != r.N {
		return nil, fmt.Errorf("evaluate: multiple-choice result without per-doc details")
	}
	samples := make([]Sample, r.N)
	for i := range r.N {
		d := docs[i]
		s := Sample{DocID: strconv.Itoa(i), LogLiks: r.LogLiks[i]}
		if d.Partial {
			for _, c := range r.Contexts[i] {
				s.Choices = append(s.Choices, c[0])
			}
			s.Target = r.Contexts[i][d.Gold][0] + r.Contexts[i][d.Gold][1]
		} else {
			s.Prompt = r.Contexts[i][0][0]
			for _, c := range r.Contexts[i] {
				s.Choices = append(s.Choices, c[1])
			}
			s.Target = r.Contexts[i][d.Gold][1]
		}
		if format == FormatTruthfulQAMC2 {
			if len(d.Labels) != len(r.LogLiks[i]) {
				return nil, fmt.Errorf("evaluate: truthfulqa_mc2 doc %d has %d labels for %d choices", i, len(d.Labels), len(r.LogLiks[i]))
			}
			mc2 := MC2(r.LogLiks[i], d.Labels)
			s.Metrics = map[string]float64{"acc": mc2, "mc2": mc2}
		} else {
			s.Metrics = map[string]float64{"acc": boolFloat(r.Pred[i] == d.Gold), "acc_norm": boolFloat(r.PredNrm[i] == d.Gold)}
		}
		samples[i] = s
	}
	return aggregate(format, samples), nil
}
