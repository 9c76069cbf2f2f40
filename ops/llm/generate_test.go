package llm

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

func loadReferenceGenerate(t *testing.T, name string) fixtures.ReferenceGenerate {
	return fixtures.ReadJSON[fixtures.ReferenceGenerate](t, filepath.Join(fixtureDir(name), "reference_generate.json"))
}

// fixtureRunner puts the fixture's weights in a store and returns a Runner on it.
func fixtureRunner(t testing.TB, f *fixture) *Runner {
	t.Helper()
	store := model.NewStore()
	if err := storeWeights(store, DefaultScope, f.weights); err != nil {
		t.Fatal(err)
	}
	r, err := NewRunnerFromStore(testBackend(t), f.cfg, store, DefaultScope)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestGenerateGreedyMatchesReference: KV-cache greedy decoding reproduces
// transformers' generate() for every fixture.
func TestGenerateGreedyMatchesReference(t *testing.T) {
	forEachFixture(t, func(t *testing.T, _ compute.Backend, f *fixture) {
		ref := loadReferenceGenerate(t, f.name)
		r := fixtureRunner(t, f)
		out, err := r.Generate([][]int32{ref.Prompt}, GenerateOptions{MaxNewTokens: len(ref.Greedy) - len(ref.Prompt)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out[0], ref.Greedy) {
			t.Errorf("greedy:\n got %v\nwant %v", out[0], ref.Greedy)
		}
	})
}

// TestGenerateProgress: Progress reports the prompt pass, then every decode
// step out of MaxNewTokens-1 (the prompt pass yields the first new token),
// and ends early when every row stops; the ids do not change.
func TestGenerateProgress(t *testing.T) {
	f := loadFixture(t, "dev-llama-gqa")
	r := fixtureRunner(t, f)
	ref := loadReferenceGenerate(t, f.name)
	for _, tc := range []struct {
		name      string
		opts      GenerateOptions
		newTokens int
		want      []string
	}{
		{"5 tokens", GenerateOptions{MaxNewTokens: 5}, 5, []string{"prefill 0/1", "prefill 1/1", "decode 0/4", "decode 1/4", "decode 2/4", "decode 3/4", "decode 4/4"}},
		{"1 token", GenerateOptions{MaxNewTokens: 1}, 1, []string{"prefill 0/1", "prefill 1/1"}},
		// The third new token stops the row: two decode steps of five.
		{"stop", GenerateOptions{MaxNewTokens: 6, StopTokens: []int{int(ref.Greedy[len(ref.Prompt)+2])}}, 3, []string{"prefill 0/1", "prefill 1/1", "decode 0/5", "decode 1/5", "decode 2/5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			opts := tc.opts
			opts.Progress = func(stage string, done, total int) { got = append(got, fmt.Sprintf("%s %d/%d", stage, done, total)) }
			out, err := r.Generate([][]int32{ref.Prompt}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("progress %q, want %q", got, tc.want)
			}
			if n := len(ref.Prompt) + tc.newTokens; !slices.Equal(out[0], ref.Greedy[:n]) {
				t.Errorf("ids %v, want the reference's first %d %v", out[0], n, ref.Greedy[:n])
			}
		})
	}
}

// TestGenerateBatchRaggedEqualsSingle: prompts of different lengths in one
// batch give the same greedy continuations as one at a time.
func TestGenerateBatchRaggedEqualsSingle(t *testing.T) {
	f := loadFixture(t, "dev-llama3-headdim-tied-bf16")
	r := fixtureRunner(t, f)
	ref := loadReferenceGenerate(t, f.name)
	prompts := [][]int32{ref.Prompt, ref.Prompt[:3], {5}}
	opts := GenerateOptions{MaxNewTokens: 6}
	batch, err := r.Generate(prompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prompts {
		single, err := r.Generate([][]int32{p}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(batch[i], single[0]) {
			t.Errorf("row %d: batch %v, alone %v", i, batch[i], single[0])
		}
	}
	if !slices.Equal(batch[0], ref.Greedy[:len(ref.Prompt)+6]) {
		t.Errorf("row 0 %v differs from the reference prefix %v", batch[0], ref.Greedy[:len(ref.Prompt)+6])
	}
}

// TestGenerateSampling: sampling is reproducible for a seed, top-k 1 is
// greedy, stop tokens end a sequence, and bad options are rejected.
func TestGenerateSampling(t *testing.T) {
	f := loadFixture(t, "dev-llama-gqa")
	r := fixtureRunner(t, f)
	ref := loadReferenceGenerate(t, f.name)
	prompt := [][]int32{ref.Prompt}
	gen := func(o GenerateOptions) []int32 {
		t.Helper()
		out, err := r.Generate(prompt, o)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	const n = 12
	a := gen(GenerateOptions{MaxNewTokens: n, Temperature: 1.5, TopP: 0.95, Seed: 7})
	b := gen(GenerateOptions{MaxNewTokens: n, Temperature: 1.5, TopP: 0.95, Seed: 7})
	c := gen(GenerateOptions{MaxNewTokens: n, Temperature: 1.5, TopP: 0.95, Seed: 8})
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different outputs: %v vs %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same %d sampled tokens: %v", n, a)
	}
	if len(a) != len(prompt[0])+n {
		t.Errorf("sampled %d tokens, want %d", len(a)-len(prompt[0]), n)
	}
	greedy := ref.Greedy
	if k1 := gen(GenerateOptions{MaxNewTokens: 10, Temperature: 2, TopK: 1, Seed: 3}); !slices.Equal(k1, greedy) {
		t.Errorf("top-k 1 sampling %v differs from greedy %v", k1, greedy)
	}
	if p := gen(GenerateOptions{MaxNewTokens: 10, Temperature: 1, TopP: 1e-9, Seed: 3}); !slices.Equal(p, greedy) {
		t.Errorf("top-p ~0 sampling %v differs from greedy %v", p, greedy)
	}
	stop := int(greedy[len(ref.Prompt)+2])
	if s := gen(GenerateOptions{MaxNewTokens: 10, StopTokens: []int{stop}}); !slices.Equal(s, greedy[:len(ref.Prompt)+3]) {
		t.Errorf("stop at %d: got %v, want %v", stop, s, greedy[:len(ref.Prompt)+3])
	}
	// StopWhen sees the row's new tokens after each step and ends it there.
	var seen []int
	if s := gen(GenerateOptions{MaxNewTokens: 10, StopWhen: func(row int, toks []int32) bool {
		seen = append(seen, len(toks))
		return len(toks) == 4
	}}); !slices.Equal(s, greedy[:len(ref.Prompt)+4]) {
		t.Errorf("StopWhen after 4 tokens: got %v, want %v", s, greedy[:len(ref.Prompt)+4])
	}
	if !slices.Equal(seen, []int{1, 2, 3, 4}) {
		t.Errorf("StopWhen was asked with %v new tokens, want 1, 2, 3, 4", seen)
	}
	for _, bad := range []GenerateOptions{{MaxNewTokens: 0}, {MaxNewTokens: 1, TopK: -1}, {MaxNewTokens: 1, TopP: -0.5}} {
		if _, err := r.Generate(prompt, bad); err == nil {
			t.Errorf("options %+v: no error", bad)
		}
	}
	if _, err := r.Generate([][]int32{{int32(f.cfg.VocabSize)}}, GenerateOptions{MaxNewTokens: 1}); err == nil {
		t.Errorf("out-of-vocabulary prompt: no error")
	}
}

// TestSamplerFilters checks temperature/top-k/top-p semantics of the device
// sampler on fixed logits (transformers order: temperature → top-k → top-p),
// one row per draw, that both draws (the sorted one for filters, Gumbel-max
// without) follow softmax(logits/T), and that a seed fixes the draws.
func TestSamplerFilters(t *testing.T) {
	logits := []float32{2, 1, 0.5, 3, -1} // probabilities at T=1 ≈ .23 .08 .05 .63 .01
	const rows = 4000
	backend := testBackend(t)
	// draw samples rows tokens from the same logits, picked as Generate picks
	// for the options (one graph per pick).
	draw := func(o GenerateOptions) []int32 {
		t.Helper()
		exec, err := NewExec(backend, func(g *Graph, inputs []*Node) []*Node {
			tiled := BroadcastToDims(InsertAxes(Const(g, logits), 0), rows, len(logits))
			ids, state := pickFor(o).apply(tiled, inputs)
			return []*Node{ids, state}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer exec.Finalize()
		state, err := RNGStateFromSeed(int64(o.Seed))
		if err != nil {
			t.Fatal(err)
		}
		res, err := exec.Exec(state, float32(o.Temperature), topPInput(o.TopP))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[int32](res[0])
	}
	cases := []struct {
		name    string
		opts    GenerateOptions
		allowed []int32
	}{
		{"top-k 1", GenerateOptions{Temperature: 5, TopK: 1}, []int32{3}},
		{"top-k 2", GenerateOptions{Temperature: 5, TopK: 2}, []int32{3, 0}},
		{"top-p 0.8 keeps 3 then 0", GenerateOptions{Temperature: 1, TopP: 0.8}, []int32{3, 0}},
		{"top-p 0.5 keeps only 3", GenerateOptions{Temperature: 1, TopP: 0.5}, []int32{3}},
		{"no filter", GenerateOptions{Temperature: 100}, []int32{0, 1, 2, 3, 4}},
	}
	for _, c := range cases {
		seen := map[int32]int{}
		for _, id := range draw(c.opts) {
			seen[id]++
		}
		for id := range seen {
			if !slices.Contains(c.allowed, id) {
				t.Errorf("%s: drew token %d, allowed %v", c.name, id, c.allowed)
			}
		}
		if len(seen) != len(c.allowed) {
			t.Errorf("%s: drew %v, want every one of %v", c.name, seen, c.allowed)
		}
	}
	// Which draw Generate uses: Gumbel-max only where no filter applies.
	for _, c := range []struct {
		opts   GenerateOptions
		gumbel bool
	}{
		{GenerateOptions{Temperature: 1}, true},
		{GenerateOptions{Temperature: 1, TopP: 1}, true},
		{GenerateOptions{Temperature: 1, TopK: 2}, false},
		{GenerateOptions{Temperature: 1, TopP: 0.9}, false},
		{GenerateOptions{Temperature: 0}, false},
	} {
		if p := pickFor(c.opts); p.gumbel != c.gumbel {
			t.Errorf("pickFor(%+v).gumbel = %v, want %v", c.opts, p.gumbel, c.gumbel)
		}
	}
	// Frequencies follow softmax(logits/T) for every token, through both draws
	// (top-p 0.999999 keeps all five tokens but takes the sorted path). The
	// binomial σ over 4000 draws is at most 0.008; ±0.03 is ~4σ.
	const freqTolerance = 0.03
	for _, c := range []struct {
		name string
		opts GenerateOptions
	}{
		{"gumbel-max, T=1", GenerateOptions{Temperature: 1, Seed: 5}},
		{"gumbel-max, T=2", GenerateOptions{Temperature: 2, Seed: 9}},
		{"sorted, T=1", GenerateOptions{Temperature: 1, TopP: 0.999999, Seed: 5}},
		{"sorted, T=2", GenerateOptions{Temperature: 2, TopP: 0.999999, Seed: 9}},
	} {
		var z float64
		for _, l := range logits {
			z += math.Exp(float64(l) / c.opts.Temperature)
		}
		counts := make([]int, len(logits))
		for _, id := range draw(c.opts) {
			counts[id]++
		}
		for id, l := range logits {
			want := math.Exp(float64(l)/c.opts.Temperature) / z
			if f := float64(counts[id]) / rows; math.Abs(f-want) > freqTolerance {
				t.Errorf("%s: P(token %d) sampled %.3f, want %.3f ± %.2f", c.name, id, f, want, freqTolerance)
			}
		}
	}
	a := draw(GenerateOptions{Temperature: 1, Seed: 5})
	if b := draw(GenerateOptions{Temperature: 1, Seed: 5}); !slices.Equal(a, b) {
		t.Error("same seed, different draws")
	}
	if c := draw(GenerateOptions{Temperature: 1, Seed: 6}); slices.Equal(a, c) {
		t.Error("seeds 5 and 6 gave the same draws")
	}
}

// TestDecodeLogitsEqualForward: the logits of the prompt pass and of every
// cached decode step equal the full forward pass at the same positions, for
// a ragged batch.
func TestDecodeLogitsEqualForward(t *testing.T) {
	f := loadFixture(t, "dev-llama3-headdim-tied-bf16")
	r := fixtureRunner(t, f)
	all := tensors.MustCopyFlatData[int32](f.ref["input_ids"])
	seqs := [][]int32{all[:12], all[32:37]} // full continuations we teacher-force
	prompts := [][]int32{seqs[0][:6], seqs[1][:2]}
	const steps = 3
	flat, _, lengths, promptLen, err := r.padRows("prompt", prompts)
	if err != nil {
		t.Fatal(err)
	}
	cacheLen := promptLen + steps + 1
	prefill, decode, err := r.getGenerateExecs(cacheLen, tokenPick{kind: pickLogits})
	if err != nil {
		t.Fatal(err)
	}
	res, err := prefill.Exec(tensors.FromFlatDataAndDimensions(flat, 2, promptLen), tensors.FromFlatDataAndDimensions(lengths, 2))
	if err != nil {
		t.Fatal(err)
	}
	vocab := f.cfg.VocabSize
	full, err := r.Logits(seqs)
	if err != nil {
		t.Fatal(err)
	}
	fullFlat := tensors.MustCopyFlatData[float32](full)
	maxLen := full.Shape().Dim(1)
	want := func(b, pos int) []float32 { return fullFlat[(b*maxLen+pos)*vocab : (b*maxLen+pos+1)*vocab] }
	check := func(step int, logits []float32) {
		for b := range 2 {
			pos := int(lengths[b]) - 1 + step
			got := logits[b*vocab : (b+1)*vocab]
			checkClose(t, fmt.Sprintf("step %d row %d (position %d)", step, b, pos),
				tensors.FromFlatDataAndDimensions(slices.Clone(got), vocab),
				tensors.FromFlatDataAndDimensions(slices.Clone(want(b, pos)), vocab))
		}
	}
	check(0, tensors.MustCopyFlatData[float32](res[0]))
	cache := res[1:]
	positions := slices.Clone(lengths)
	for step := 1; step <= steps; step++ {
		tokens := []int32{seqs[0][positions[0]], seqs[1][positions[1]]} // teacher forcing
		args := []any{tensors.FromFlatDataAndDimensions(tokens, 2), tensors.FromFlatDataAndDimensions(slices.Clone(lengths), 2),
			int32(step - 1), int32(promptLen)}
		for _, c := range cache {
			args = append(args, c)
		}
		res, err = decode.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		check(step, tensors.MustCopyFlatData[float32](res[0]))
		cache = res[1:]
		for b := range positions {
			positions[b]++
		}
	}
}
