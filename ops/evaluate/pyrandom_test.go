package evaluate

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// pythonRandomGolden is testdata/python_random.json, written by CPython 3.11's
// random module itself (the generating snippet is in the commit that added it).
type pythonRandomGolden struct {
	Python  string `json:"python"`
	Samples []struct {
		N, K   int
		Sample []int
	} `json:"samples_seed_1234"`
	RandBelow []int `json:"randbelow_seed_1234"`
	Separate  []struct {
		N, Pool, K int
		Shots      [][]int
	} `json:"harness_separate_split_seed_1234"`
	Harness []struct {
		N, K  int
		Shots [][]int
	} `json:"harness_context_sampler_seed_1234"`
}

func readPythonRandom(t *testing.T) (pythonRandomGolden, map[string]json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile("testdata/python_random.json")
	if err != nil {
		t.Fatal(err)
	}
	var g pythonRandomGolden
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return g, raw
}

// TestPyRandomMatchesCPython: the MT19937 stream for three seeds (one over
// 32 bits), _randbelow, and a stateful run of random.sample calls covering
// both of its strategies equal what CPython produced.
func TestPyRandomMatchesCPython(t *testing.T) {
	g, raw := readPythonRandom(t)
	for _, seed := range []uint64{1234, 0, 1<<40 + 5} {
		var want []uint32
		if err := json.Unmarshal(raw[fmt.Sprintf("uint32_%d", seed)], &want); err != nil || len(want) < 700 {
			t.Fatalf("seed %d: golden stream missing (%v)", seed, err)
		}
		r := NewPyRandom(seed)
		for i, w := range want { // 700 > 624: crosses a twist
			if got := r.Uint32(); got != w {
				t.Fatalf("seed %d: word %d = %d, CPython %d", seed, i, got, w)
			}
		}
	}
	r := NewPyRandom(1234)
	ns := []int{1, 2, 3, 7, 100, 1000, 65536, 65537, 1<<31 - 1}
	for i, w := range g.RandBelow {
		if got := r.RandBelow(ns[i%len(ns)]); got != w {
			t.Fatalf("_randbelow call %d (n=%d) = %d, CPython %d", i, ns[i%len(ns)], got, w)
		}
	}
	r = NewPyRandom(1234)
	if len(g.Samples) == 0 {
		t.Fatal("no golden samples")
	}
	for i, c := range g.Samples {
		if got := r.Sample(c.N, c.K); !slices.Equal(got, c.Sample) {
			t.Fatalf("sample call %d (n=%d, k=%d) = %v, CPython %v", i, c.N, c.K, got, c.Sample)
		}
	}
}

// TestShotPickerMatchesHarness: the few-shot examples chosen for every doc
// equal lm-evaluation-harness's ContextSampler run by CPython with the
// default seed 1234, with the examples from the evaluated split (k+1 drawn,
// the doc dropped) and from a separate few-shot split (k drawn); and
// first_n from a separate split takes its first k whatever the doc.
func TestShotPickerMatchesHarness(t *testing.T) {
	g, _ := readPythonRandom(t)
	type golden struct {
		pool, k  int
		separate bool
		shots    [][]int
	}
	var cases []golden
	for _, c := range g.Harness {
		cases = append(cases, golden{c.N, c.K, false, c.Shots})
	}
	for _, c := range g.Separate {
		cases = append(cases, golden{c.Pool, c.K, true, c.Shots})
	}
	if len(g.Harness) == 0 || len(g.Separate) == 0 {
		t.Fatal("golden harness contexts missing")
	}
	for _, c := range cases {
		p, err := newShotPicker(c.pool, c.k, DefaultSeed, false, c.separate)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.shots {
			if got := p.shots(i); !slices.Equal(got, want) {
				t.Fatalf("pool=%d k=%d separate=%v doc %d: shots %v, harness %v", c.pool, c.k, c.separate, i, got, want)
			}
		}
	}
	first, err := newShotPicker(4, 3, DefaultSeed, true, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got := first.shots(i); !slices.Equal(got, []int{0, 1, 2}) {
			t.Errorf("first_n from a separate split, doc %d: %v, want [0 1 2]", i, got)
		}
	}
	if _, err := newShotPicker(2, 3, DefaultSeed, false, true); err == nil || !strings.Contains(err.Error(), "few-shot file has 2") {
		t.Errorf("3 shots from 2 few-shot docs: error %v", err)
	}
}
