package llm

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/gominitron/gominitron/internal/fixtures"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// lossTolerance is the absolute tolerance on cross-entropy values (nats)
// against the float32 references.
const lossTolerance = 1e-4

type referenceImportance struct {
	LMLoss        float64   `json:"lm_loss"`
	DropOneLMLoss []float64 `json:"drop_one_lm_loss"`
}

func loadReferenceImportance(t *testing.T, name string) referenceImportance {
	return fixtures.ReadJSON[referenceImportance](t, filepath.Join(fixtureDir(name), "reference_importance.json"))
}

// TestNextTokenLossMatchesReference: the full model's loss and the loss with
// each layer skipped equal the fixtures' lm_loss and drop_one_lm_loss.
func TestNextTokenLossMatchesReference(t *testing.T) {
	forEachFixture(t, func(t *testing.T, backend compute.Backend, f *fixture) {
		ref := loadReferenceImportance(t, f.name)
		ids := f.ref["input_ids"]
		lossOf := func(skip []bool) float64 {
			res := runForward(t, backend, f, ids, func(g *Graph) *ForwardOptions {
				return &ForwardOptions{SkipLayers: skip}
			}, func(idsNode *Node, out *Outputs) []*Node {
				return []*Node{NextTokenLoss(out.Logits, idsNode, nil)}
			})
			return float64(tensors.ToScalar[float32](res[len(res)-1]))
		}
		if got := lossOf(nil); math.Abs(got-ref.LMLoss) > lossTolerance {
			t.Errorf("lm_loss %.6f, reference %.6f", got, ref.LMLoss)
		}
		for l, want := range ref.DropOneLMLoss {
			skip := make([]bool, f.cfg.NumLayers)
			skip[l] = true
			if got := lossOf(skip); math.Abs(got-want) > lossTolerance {
				t.Errorf("drop layer %d: loss %.6f, reference %.6f", l, got, want)
			}
		}
	})
}

// TestNextTokenLossMaskAndGradient checks the mask semantics against a direct
// computation and that the loss is differentiable w.r.t. the logits.
func TestNextTokenLossMaskAndGradient(t *testing.T) {
	backend := testBackend(t)
	const batchSize, seqLen, vocab = 2, 5, 7
	logits := make([]float32, batchSize*seqLen*vocab)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i) * 0.37))
	}
	ids := []int32{1, 2, 3, 4, 5, 6, 0, 1, 2, 3}
	mask := []bool{true, true, true, false, false, true, true, true, true, true}

	// Direct computation in float64.
	var sum, sumMasked float64
	var count int
	for b := range batchSize {
		for s := 0; s < seqLen-1; s++ {
			row := logits[(b*seqLen+s)*vocab : (b*seqLen+s+1)*vocab]
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v))
			}
			nll := math.Log(z) - float64(row[ids[b*seqLen+s+1]])
			sum += nll
			if mask[b*seqLen+s+1] {
				sumMasked += nll
				count++
			}
		}
	}
	wantPlain, wantMasked := sum/float64(batchSize*(seqLen-1)), sumMasked/float64(count)

	res, err := CallOnceN(backend, func(l, i, m *Node) []*Node {
		plain := NextTokenLoss(l, i, nil)
		masked := NextTokenLoss(l, i, m)
		maskedNum := NextTokenLoss(l, i, ConvertDType(m, dtypes.Float32))
		grad := Gradient(masked, l)[0]
		return []*Node{plain, masked, maskedNum, ReduceAllSum(Abs(grad))}
	}, tensors.FromFlatDataAndDimensions(logits, batchSize, seqLen, vocab),
		tensors.FromFlatDataAndDimensions(ids, batchSize, seqLen),
		tensors.FromFlatDataAndDimensions(mask, batchSize, seqLen))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{wantPlain, wantMasked, wantMasked} {
		if got := float64(tensors.ToScalar[float32](res[i])); math.Abs(got-want) > lossTolerance {
			t.Errorf("output %d: loss %.6f, want %.6f", i, got, want)
		}
	}
	if g := tensors.ToScalar[float32](res[3]); !(g > 0) {
		t.Errorf("gradient of the loss w.r.t. logits is %g, want > 0", g)
	}
}

// TestForwardIsDifferentiable: the loss through Forward (with masks) has
// finite, non-zero gradients for every weight on the Go backend (training and
// distillation reuse Forward).
func TestForwardIsDifferentiable(t *testing.T) {
	backend := testBackend(t)
	f := loadFixture(t, "dev-qwen2-bias")
	names := f.weightNames()
	cfg := f.cfg
	exec, err := NewExec(backend, func(g *Graph, inputs []*Node) []*Node {
		byName := map[string]*Node{}
		for i, n := range names {
			byName[n] = inputs[1+i]
		}
		out := Forward(cfg, func(name string) *Node { return byName[name] }, inputs[0], &ForwardOptions{
			FFNMask:    Const(g, filled(1, cfg.NumLayers, cfg.FFN)),
			HeadMask:   Const(g, filled(1, cfg.NumLayers, cfg.NumHeads)),
			HiddenMask: Const(g, filled(1, cfg.Hidden)),
		})
		loss := NextTokenLoss(out.Logits, inputs[0], nil)
		grads := Gradient(loss, inputs[1:]...)
		res := []*Node{loss}
		for _, gr := range grads {
			res = append(res, ReduceAllSum(Abs(gr)))
		}
		return res
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	args := []any{f.ref["input_ids"]}
	for _, n := range names {
		args = append(args, f.weights[n])
	}
	res, err := exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		g := float64(tensors.ToScalar[float32](res[1+i]))
		if !(g > 0) || math.IsInf(g, 0) {
			t.Errorf("sum |d loss / d %s| = %g, want finite > 0", n, g)
		}
	}
}

// chunkedLossTolerance is the relative tolerance between the chunked and
// the whole loss sums (float32 sums in another order).
const chunkedLossTolerance = 1e-5

// TestNextTokenLossSumChunked: the loss computed from hidden states and the
// lm_head a few positions at a time equals the loss of the whole logits, with
// and without a padding mask, on every fixture (tied and untied heads).
func TestNextTokenLossSumChunked(t *testing.T) {
	backend := testBackend(t)
	for _, name := range fixtureNames {
		f := loadFixture(t, name)
		ids := f.ref["input_ids"]
		seqLen := ids.Shape().Dim(1)
		for _, masked := range []bool{false, true} {
			for _, chunk := range []int{1, 3, 0} {
				t.Run(fmt.Sprintf("%s/masked=%v/chunk=%d", name, masked, chunk), func(t *testing.T) {
					res := runWithWeights(t, backend, f, ids, func(g *Graph, idsNode *Node, params func(string) *Node) []*Node {
						var mask *Node
						if masked { // the last two tokens of every row are padding
							pos := Iota(g, shapesOf(dtypes.Int32, idsNode.Shape().Dimensions...), 1)
							mask = LessThan(pos, Scalar(g, dtypes.Int32, seqLen-2))
						}
						out := Forward(f.cfg, params, idsNode, nil)
						wholeSum, wholeCount := NextTokenLossSum(out.Logits, idsNode, mask)
						sum, count := NextTokenLossSumChunked(out.Hidden[f.cfg.NumLayers], LMHeadWeight(f.cfg, params), idsNode, mask, dtypes.Float32, chunk)
						return []*Node{wholeSum, wholeCount, sum, count}
					})
					v := make([]float64, len(res))
					for i, r := range res {
						v[i] = float64(tensors.ToScalar[float32](r))
					}
					wantCount := float64(ids.Shape().Dim(0) * (seqLen - 1))
					if masked {
						wantCount = float64(ids.Shape().Dim(0) * (seqLen - 3))
					}
					if v[1] != wantCount || v[3] != wantCount {
						t.Errorf("counts: whole %g, chunked %g, want %g", v[1], v[3], wantCount)
					}
					if math.Abs(v[2]-v[0]) > chunkedLossTolerance*math.Abs(v[0]) || v[0] == 0 {
						t.Errorf("chunked sum %.7g, whole %.7g", v[2], v[0])
					}
				})
			}
		}
	}
}

// TestChunkedLossConvertedHead: with a bfloat16 head computed in float32
// and the head converted a few rows at a time (weightChunkBytes forced to 7
// rows), the chunked LM loss and target log-probabilities equal those from
// the same head converted whole beforehand, within chunkedLossTolerance: the
// gathered rows (several chunks of positions: the head applied repeatedly in
// one graph) and the sliced rows (one chunk) are the same dot products, but
// the Go backend picks its matmul kernel by shape, so a 7-row product may sum
// in another order than the whole head's (measured: up to ~1e-7 relative).
func TestChunkedLossConvertedHead(t *testing.T) {
	backend := testBackend(t)
	for _, name := range fixtureNames {
		f := loadFixture(t, name)
		ids := f.ref["input_ids"]
		for _, chunk := range []int{1, 3, 0} {
			t.Run(fmt.Sprintf("%s/chunk=%d", name, chunk), func(t *testing.T) {
				defer SetWeightChunkBytes(7 * f.cfg.Hidden * 4)()
				res := runWithWeights(t, backend, f, ids, func(g *Graph, idsNode *Node, params func(string) *Node) []*Node {
					out := Forward(f.cfg, params, idsNode, &ForwardOptions{NoLogits: true})
					hidden := out.Hidden[f.cfg.NumLayers]
					stored := ConvertDType(LMHeadWeight(f.cfg, params), dtypes.BFloat16) // [vocab, hidden] bf16
					wide := ConvertDType(stored, dtypes.Float32)
					sum, _ := NextTokenLossSumChunked(hidden, stored, idsNode, nil, dtypes.Float32, chunk)
					wantSum, _ := NextTokenLossSumChunked(hidden, wide, idsNode, nil, dtypes.Float32, chunk)
					logp, _ := TargetLogProbsChunked(hidden, stored, idsNode, dtypes.Float32, chunk)
					wantLogp, _ := TargetLogProbsChunked(hidden, wide, idsNode, dtypes.Float32, chunk)
					return []*Node{sum, wantSum, logp, wantLogp}
				})
				if got, want := float64(tensors.ToScalar[float32](res[0])), float64(tensors.ToScalar[float32](res[1])); math.Abs(got-want) > chunkedLossTolerance*math.Abs(want) || want == 0 {
					t.Errorf("loss sum %.9g from the bf16 head in chunks of rows, %.9g from the head converted whole", got, want)
				}
				got, want := tensors.MustCopyFlatData[float32](res[2]), tensors.MustCopyFlatData[float32](res[3])
				for i := range want {
					if math.Abs(float64(got[i])-float64(want[i])) > chunkedLossTolerance*math.Abs(float64(want[i])) {
						t.Fatalf("log-prob %d: %.9g from the bf16 head in chunks of rows, %.9g converted whole", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestTargetLogProbsChunked: per-position target log-probabilities and
// greedy flags computed from hidden states a few positions at a time equal
// log softmax and argmax of the whole logits, computed here in float64 from
// Forward's [batchSize, seqLen, vocab] logits, on every fixture.
func TestTargetLogProbsChunked(t *testing.T) {
	backend := testBackend(t)
	for _, name := range fixtureNames {
		f := loadFixture(t, name)
		ids := f.ref["input_ids"]
		batchSize, seqLen := ids.Shape().Dim(0), ids.Shape().Dim(1)
		flatIDs := tensors.MustCopyFlatData[int32](ids)
		targets := make([]int32, len(flatIDs)) // position s predicts token s+1 (the last position: token 0)
		for b := range batchSize {
			copy(targets[b*seqLen:(b+1)*seqLen-1], flatIDs[b*seqLen+1:(b+1)*seqLen])
		}
		names := f.weightNames()
		for _, chunk := range []int{1, 3, 0} {
			t.Run(fmt.Sprintf("%s/chunk=%d", name, chunk), func(t *testing.T) {
				exec, err := NewExec(backend, func(g *Graph, inputs []*Node) []*Node {
					byName := map[string]*Node{}
					for i, n := range names {
						byName[n] = inputs[2+i]
					}
					params := func(name string) *Node { return byName[name] }
					out := Forward(f.cfg, params, inputs[0], nil)
					logp, greedy := TargetLogProbsChunked(out.Hidden[f.cfg.NumLayers], LMHeadWeight(f.cfg, params), inputs[1], dtypes.Float32, chunk)
					return []*Node{out.Logits, logp, greedy}
				})
				if err != nil {
					t.Fatal(err)
				}
				defer exec.Finalize()
				args := []any{ids, tensors.FromFlatDataAndDimensions(targets, batchSize, seqLen)}
				for _, n := range names {
					args = append(args, f.weights[n])
				}
				res, err := exec.Exec(args...)
				if err != nil {
					t.Fatal(err)
				}
				logits := tensors.MustCopyFlatData[float32](res[0])
				logp := tensors.MustCopyFlatData[float32](res[1])
				greedy := tensors.MustCopyFlatData[bool](res[2])
				vocab := f.cfg.VocabSize
				for p := range batchSize * seqLen {
					row := logits[p*vocab : (p+1)*vocab]
					best, z := 0, 0.0
					for v, x := range row {
						if x > row[best] {
							best = v
						}
						z += math.Exp(float64(x - row[0]))
					}
					want := float64(row[targets[p]]-row[0]) - math.Log(z)
					if math.Abs(float64(logp[p])-want) > lossTolerance {
						t.Errorf("position %d: logp %.6f, whole logits %.6f", p, logp[p], want)
					}
					if greedy[p] != (best == int(targets[p])) {
						t.Errorf("position %d: greedy %v, argmax %d target %d", p, greedy[p], best, targets[p])
					}
				}
			})
		}
	}
}
