package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gominitron/gominitron/results"
)

// toyRun trains the toy LM in outDir for total updates (stopping after
// stopAfter if > 0, resuming from outDir's checkpoints if resume).
func toyRun(t *testing.T, outDir string, total, stopAfter int, resume bool, loss LossFn) (*Trainer, Summary, error) {
	t.Helper()
	if loss == nil {
		loss = toyLoss
	}
	store := newToyStore(t, 5)
	if err := store.SetRNGStateFromSeed(11); err != nil {
		t.Fatal(err)
	}
	tr, err := New(testBackend(t), store, loss, Config{
		Schedule:   Schedule{PeakLR: 0.05, MinLR: 0.005, WarmupSteps: 2, TotalSteps: total},
		AdamW:      DefaultAdamW(),
		ClipNorm:   1,
		AccumSteps: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	loader, err := NewSequenceLoader(toySequences(20, 7, 9), 3, 42) // 6 batches per epoch: epochs wrap
	if err != nil {
		t.Fatal(err)
	}
	if resume {
		path, err := tr.Resume(outDir, loader)
		if err != nil || path == "" {
			t.Fatalf("resume: %q, %v", path, err)
		}
	}
	sum, err := tr.Run(RunOptions{OutDir: outDir, Train: loader, Val: FixedBatches(toySequences(5, 7, 10), 2),
		EvalEvery: 3, CheckpointEvery: 2, KeepCheckpoints: 2, StopAfter: stopAfter})
	return tr, sum, err
}

// TestResumeBitExact: N updates uninterrupted == N/2, stop, resume, N/2: the
// same losses, norms and validation losses, exactly, and identical weights.
func TestResumeBitExact(t *testing.T) {
	const total = 10
	dirA, dirB := t.TempDir(), t.TempDir()
	trA, _, err := toyRun(t, dirA, total, 0, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := toyRun(t, dirB, total, total/2+1, false, nil); err != nil { // interrupted after step 6 (checkpoint at 6)
		t.Fatal(err)
	}
	// Simulate the lost work of a crash: the log has rows beyond the checkpoint.
	trB, _, err := toyRun(t, dirB, total, 0, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	logA, err := results.ReadTrainLog(filepath.Join(dirA, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	logB, err := results.ReadTrainLog(filepath.Join(dirB, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(logA) != total || len(logB) != total {
		t.Fatalf("log lengths %d and %d, want %d", len(logA), len(logB), total)
	}
	for i := range logA {
		a, b := logA[i], logB[i]
		if a.Step != b.Step || a.Tokens != b.Tokens || a.LR != b.LR || a.TrainLoss != b.TrainLoss || a.GradNorm != b.GradNorm ||
			(a.ValLoss == nil) != (b.ValLoss == nil) || (a.ValLoss != nil && *a.ValLoss != *b.ValLoss) {
			t.Errorf("row %d differs:\n uninterrupted %+v\n resumed       %+v", i, a, b)
		}
	}
	va, vb := variableValues(t, trA.Store()), variableValues(t, trB.Store())
	for k, a := range va {
		for i := range a {
			if a[i] != vb[k][i] {
				t.Fatalf("%s[%d]: %g vs %g", k, i, a[i], vb[k][i])
			}
		}
	}
	// keep-last-2 (placed after the resume checks)
	cks, _ := ListCheckpoints(filepath.Join(dirB, CheckpointsDir))
	if len(cks) != 2 || !strings.HasSuffix(cks[1], "step-00000010") {
		t.Errorf("checkpoints kept: %v", cks)
	}
}

// TestCheckpointFailedWriteKeepsLastGood: a save that fails before the rename
// leaves no partial checkpoint and the previous one loadable.
func TestCheckpointFailedWriteKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	tr, _, err := toyRun(t, dir, 4, 0, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	ckDir := filepath.Join(dir, CheckpointsDir)
	good, _ := LatestCheckpoint(ckDir)
	want := variableValues(t, tr.Store())
	if _, err := tr.TrainStep(nil); err == nil {
		t.Fatal("TrainStep with no micro-batches accepted")
	}
	boom := errors.New("disk full (simulated)")
	c := &Checkpointer{Dir: ckDir, Keep: 2, failBeforeRename: func() error { return boom }}
	tr.step++ // pretend an update happened, so the save targets a new step
	if _, err := c.Save(tr, json.RawMessage(`{}`), 0); !errors.Is(err, boom) {
		t.Fatalf("save error %v, want the simulated failure", err)
	}
	entries, _ := os.ReadDir(ckDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary directory %s left behind", e.Name())
		}
	}
	// A crash (no cleanup) leaves a .tmp dir: it must be ignored.
	os.MkdirAll(filepath.Join(ckDir, ".tmp-step-00000099-123"), 0o755)
	latest, _ := LatestCheckpoint(ckDir)
	if latest != good {
		t.Fatalf("latest checkpoint %q, want %q", latest, good)
	}
	// Restore into a fresh trainer reproduces the saved weights.
	tr2, _, _ := toyRun(t, t.TempDir(), 4, 0, false, nil)
	if _, err := tr2.Restore(good); err != nil {
		t.Fatal(err)
	}
	got := variableValues(t, tr2.Store())
	for k, a := range want {
		if strings.HasPrefix(k, OptimizerScope+"/grad_acc") {
			continue
		}
		for i := range a {
			if a[i] != got[k][i] {
				t.Fatalf("%s[%d] restored %g, want %g", k, i, got[k][i], a[i])
			}
		}
	}
}

// TestRunStopsOnNaN: a loss that turns NaN at update 5 stops Run with the step
// and the last good checkpoint, and no checkpoint holds NaN weights.
func TestRunStopsOnNaN(t *testing.T) {
	dir := t.TempDir()
	// The loss is NaN for a micro-batch whose first token is poison: pick the
	// token whose first such micro-batch comes latest but within 25 updates
	// (after checkpoints at steps 2, 4, ...).
	poison, failAt := int32(-1), -1
	for tok := int32(0); tok < toyVocab; tok++ {
		loader, _ := NewSequenceLoader(toySequences(20, 7, 9), 3, 42) // as in toyRun
		for mb := 0; mb < 50; mb++ {
			b, _ := loader.Next()
			if b.Value().([][]int32)[0][0] == tok {
				if mb/2 > failAt && mb/2 < 25 {
					poison, failAt = tok, mb/2
				}
				break
			}
		}
	}
	if failAt < 3 {
		t.Fatalf("no usable poison token (fail at %d)", failAt)
	}
	nanLoss := func(g *graph.Graph, s *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		l, m := toyLoss(g, s, batch)
		first := graph.Slice(batch, graph.AxisRange(0, 1), graph.AxisRange(0, 1))
		bad := graph.Equal(graph.Reshape(first), graph.Const(g, poison))
		l = graph.Where(bad, graph.Const(g, float32(math.NaN())), l)
		return l, m
	}
	_, sum, err := toyRun(t, dir, 30, 0, false, nanLoss)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Run error %v, want a NonFiniteError", err)
	}
	t.Logf("stopped: %v", err)
	if nf.Step != failAt || nf.Step != sum.Steps {
		t.Errorf("failed at step %d (%d updates done), want %d", nf.Step, sum.Steps, failAt)
	}
	if nf.LastCheckpoint == "" || !strings.HasSuffix(nf.LastCheckpoint, fmt.Sprintf("step-%08d", failAt/2*2)) {
		t.Errorf("last good checkpoint %q, want the one of step %d", nf.LastCheckpoint, failAt/2*2)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("step %d", failAt)) || !strings.Contains(err.Error(), nf.LastCheckpoint) {
		t.Errorf("message lacks step/checkpoint: %v", err)
	}
	cks, _ := ListCheckpoints(filepath.Join(dir, CheckpointsDir))
	for _, ck := range cks {
		tr, _, _ := toyRun(t, t.TempDir(), 4, 0, false, nil)
		if _, err := tr.Restore(ck); err != nil {
			t.Fatal(err)
		}
		for k, vals := range variableValues(t, tr.Store()) {
			for _, x := range vals {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("checkpoint %s holds non-finite %s", ck, k)
				}
			}
		}
	}
}

func TestSequenceLoaderRestore(t *testing.T) {
	seqs := toySequences(10, 4, 1)
	a, _ := NewSequenceLoader(seqs, 3, 7)
	var states []json.RawMessage
	var firsts []int32
	for range 8 { // 3 batches per epoch: crosses 2 epoch boundaries
		st, _ := a.State()
		states = append(states, st)
		b, _ := a.Next()
		firsts = append(firsts, b.Value().([][]int32)[0][0])
	}
	for i, st := range states {
		b, _ := NewSequenceLoader(seqs, 3, 7)
		if err := b.Restore(st); err != nil {
			t.Fatal(err)
		}
		x, _ := b.Next()
		if x.Value().([][]int32)[0][0] != firsts[i] {
			t.Errorf("batch %d after restore differs", i)
		}
	}
}

// TestResumeBitExactWithRNG: a loss drawing random numbers from the store's
// RNG (as dropout would) still resumes bit for bit: the RNG state is
// checkpointed.
func TestResumeBitExactWithRNG(t *testing.T) {
	noisy := func(g *graph.Graph, s *model.Store, batch *graph.Node) (*graph.Node, map[string]*graph.Node) {
		l, m := toyLoss(g, s, batch)
		noise := graph.ReduceAllMean(s.RandomNormal(g, shapes.Make(dtypes.Float32, 4)))
		return graph.Add(l, graph.MulScalar(noise, 0.1)), m
	}
	const total = 8
	dirA, dirB := t.TempDir(), t.TempDir()
	if _, _, err := toyRun(t, dirA, total, 0, false, noisy); err != nil {
		t.Fatal(err)
	}
	if _, _, err := toyRun(t, dirB, total, 4, false, noisy); err != nil {
		t.Fatal(err)
	}
	if _, _, err := toyRun(t, dirB, total, 0, true, noisy); err != nil {
		t.Fatal(err)
	}
	logA, _ := results.ReadTrainLog(filepath.Join(dirA, MetricsFile))
	logB, _ := results.ReadTrainLog(filepath.Join(dirB, MetricsFile))
	if len(logA) != total || len(logB) != total {
		t.Fatalf("log lengths %d, %d", len(logA), len(logB))
	}
	for i := range logA {
		if logA[i].TrainLoss != logB[i].TrainLoss {
			t.Errorf("update %d: loss %v uninterrupted vs %v resumed", i+1, logA[i].TrainLoss, logB[i].TrainLoss)
		}
	}
}

// TestExtraMetricsAndValLoss: metrics without a TrainStep field go to Extra
// (and survive the metrics.jsonl round trip); RunOptions.ValLoss replaces
// the training loss on the validation batches, SkipInitialVal skips step 0.
func TestExtraMetricsAndValLoss(t *testing.T) {
	row := results.TrainStep{Step: 1}
	setExtras(&row, map[string]float64{"loss_ce": 2, "kl_top1": 0.25, "alpha": 0.5})
	if row.LossCE == nil || *row.LossCE != 2 || row.Alpha == nil || *row.Alpha != 0.5 || len(row.Extra) != 1 || row.Extra["kl_top1"] != 0.25 {
		t.Fatalf("setExtras: %+v", row)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, MetricsFile)
	if err := results.WriteTrainLog(path, []results.TrainStep{row, {Step: 2}}); err != nil {
		t.Fatal(err)
	}
	back, err := results.ReadTrainLog(path)
	if err != nil || len(back) != 2 || back[0].Extra["kl_top1"] != 0.25 || back[1].Extra != nil {
		t.Fatalf("round trip: %+v, %v", back, err)
	}

	store := newToyStore(t, 5)
	if err := store.SetRNGStateFromSeed(11); err != nil {
		t.Fatal(err)
	}
	tr, err := New(testBackend(t), store, toyLoss, Config{Schedule: Schedule{PeakLR: 0.05, MinLR: 0.005, WarmupSteps: 1, TotalSteps: 3},
		AdamW: DefaultAdamW(), AccumSteps: 1})
	if err != nil {
		t.Fatal(err)
	}
	loader, err := NewSequenceLoader(toySequences(20, 7, 9), 3, 42)
	if err != nil {
		t.Fatal(err)
	}
	const fixedVal = 1.5 // the stand-in validation loss
	calls := 0
	sum, err := tr.Run(RunOptions{OutDir: dir, Train: loader, Val: FixedBatches(toySequences(5, 7, 10), 2), EvalEvery: 2,
		ValLoss:        func([]*tensors.Tensor) (float64, error) { calls++; return fixedVal, nil },
		SkipInitialVal: true})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := results.ReadTrainLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || sum.InitialValLoss != 0 || sum.ValLoss != fixedVal || len(rows) != 3 || rows[0].ValLoss != nil ||
		rows[1].ValLoss == nil || *rows[1].ValLoss != fixedVal || *rows[2].ValLoss != fixedVal {
		t.Errorf("ValLoss: %d calls, summary %+v, rows %+v", calls, sum, rows)
	}
}
