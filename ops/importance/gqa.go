package importance

import (
	"fmt"
	"sort"
)

// HeadRankingByGroup ranks query heads within their KV group, per layer:
// out[layer][group] lists the group's query-head indices (global, 0 …
// numHeads−1), most important first (ties: lower index first). Query head h
// belongs to KV group h / (numHeads/numKVHeads) (Hugging Face repeat_kv
// order). Pruning keeps the number of groups and the same number of heads
// per group, taking each group's best.
func HeadRankingByGroup(heads [][]float64, numKVHeads int) ([][][]int, error) {
	out := make([][][]int, len(heads))
	for l, scores := range heads {
		numHeads := len(scores)
		if numKVHeads < 1 || numHeads%numKVHeads != 0 {
			return nil, fmt.Errorf("importance: layer %d has %d heads, not a multiple of %d KV heads", l, numHeads, numKVHeads)
		}
		perGroup := numHeads / numKVHeads
		out[l] = make([][]int, numKVHeads)
		for g := range numKVHeads {
			idx := make([]int, perGroup)
			for i := range idx {
				idx[i] = g*perGroup + i
			}
			sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
			out[l][g] = idx
		}
	}
	return out, nil
}

// Ranking returns the indices of scores sorted by decreasing score (ties:
// lower index first).
func Ranking(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}
