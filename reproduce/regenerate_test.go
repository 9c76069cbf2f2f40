package reproduce

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gominitron/gominitron/results"
)

// storeSynthetic writes a kd-vs-ce result.json with three seeds where KD
// wins clearly, and returns the results folder.
func storeSynthetic(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	shape := results.Shape{NumLayers: 4, Hidden: 96, FFN: 192, NumHeads: 2, NumKVHeads: 2, Params: 500000}
	r := &Report{Experiment: ExpKDvsCE, Title: "Distillation (KL) vs LM-loss retraining", Claim: "KD beats CE", Scale: "cpu",
		Seeds: three, Teacher: "models/demo-teacher", TeacherShape: shape, TeacherValLoss: 4.8,
		Details: &KDvsCEResult{Shape: shape, Steps: 10, LossAtStep0: high, KD: low, CE: high},
		// a stale verdict: Regenerate must replace it
		Reproduced: false, Verdict: "stale", Headers: []string{"old"}, Rows: [][]string{{"old"}}}
	for _, seed := range three {
		for _, name := range []string{"KD (forward KL)", "CE (LM loss)"} {
			r.Runs = append(r.Runs, results.Run{Name: name + seedTag(seed), Steps: []results.TrainStep{
				{Step: 0, ValLoss: results.F(5.5)}, {Step: 10, Tokens: 100, ValLoss: results.F(5.1)}}})
		}
	}
	if err := results.SaveJSON(filepath.Join(dir, ExpKDvsCE, ResultFile), r); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRegenerateFromStoredResult(t *testing.T) {
	from := storeSynthetic(t)
	before, err := os.ReadFile(filepath.Join(from, ExpKDvsCE, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	reports, err := Regenerate(from, from)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || !reports[0].Reproduced || !strings.Contains(reports[0].Verdict, "KD < CE") {
		t.Fatalf("reports %d, reproduced %v, verdict %q", len(reports), reports[0].Reproduced, reports[0].Verdict)
	}
	table, err := os.ReadFile(filepath.Join(from, ExpKDvsCE, TableFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**Reproduced.**", "5.0000 ± 0.0100", "5.2033 ± 0.0153", "3 seed(s) [1 1001 2001]"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if _, err := os.Stat(filepath.Join(from, ExpKDvsCE, "curves.png")); err != nil {
		t.Error(err)
	}
	after, _ := os.ReadFile(filepath.Join(from, ExpKDvsCE, ResultFile))
	if string(after) != string(before) {
		t.Error("Regenerate rewrote the stored result.json")
	}

	doc := "# Results\n\nprose\n\n<!-- reproduce:table kd-vs-ce -->\nold table\n<!-- /reproduce:table -->\n\nmore prose\n"
	got, err := UpdateDoc([]byte(doc), reports)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "5.0000 ± 0.0100") || strings.Contains(string(got), "old table") ||
		!strings.HasSuffix(string(got), "<!-- /reproduce:table -->\n\nmore prose\n") || !strings.HasPrefix(string(got), "# Results\n\nprose\n\n") {
		t.Errorf("UpdateDoc:\n%s", got)
	}
	pending := "<!-- reproduce:table search -->\npending: run it\n<!-- /reproduce:table -->\n" + doc
	if got, err := UpdateDoc([]byte(pending), reports); err != nil || !strings.HasPrefix(string(got), "<!-- reproduce:table search -->\npending: run it\n<!-- /reproduce:table -->\n# Results") ||
		!strings.Contains(string(got), "5.0000 ± 0.0100") {
		t.Errorf("a block without a stored result must stay as it is (%v):\n%s", err, got)
	}
	for _, bad := range []string{
		"<!-- reproduce:table kd-vs-ce -->\nunterminated\n",
		"<!-- reproduce:table kd-vs-ce",
	} {
		if _, err := UpdateDoc([]byte(bad), reports); err == nil {
			t.Errorf("UpdateDoc(%q): no error", bad)
		}
	}
	if _, err := Regenerate(t.TempDir(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no result.json") {
		t.Errorf("empty folder: %v", err)
	}
}
