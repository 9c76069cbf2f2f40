package nbtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const executedNotebook = `{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
  {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": [],
   "outputs": [
    {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}},
    {"output_type": "display_data", "metadata": {}, "data": {"text/html": ["<div><svg width=\"1\">", "</svg></div>"]}},
    {"output_type": "stream", "name": "stdout", "text": ["lm_loss=6.4219\n"]}
   ]},
  {"cell_type": "code", "execution_count": 2, "metadata": {}, "source": [],
   "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/html": "<table><tr><td>1</td></tr></table>"}}]}
 ],
 "metadata": {"gominitron": {"expect": {"images": 2, "contains": ["lm_loss=6.42", "<table>"]}}},
 "nbformat": 4, "nbformat_minor": 5
}`

func writeNotebook(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nb.ipynb")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNotebookReport(t *testing.T) {
	r, err := ReadNotebookReport(writeNotebook(t, executedNotebook))
	if err != nil {
		t.Fatal(err)
	}
	if r.CodeCells != 2 || r.Executed != 2 || r.Images != 2 {
		t.Fatalf("report %+v", r)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to, want string }{
		{"missing figure", `"images": 2`, `"images": 3`, "2 figures, want 3"},
		{"missing string", `"<table>"]`, `"<table>", "acc="]`, `"acc="`},
		{"not executed", `"execution_count": 2`, `"execution_count": null`, "1 of 2 code cells executed"},
		{"error output", `{"output_type": "stream", "name": "stdout", "text": ["lm_loss=6.4219\n"]}`,
			`{"output_type": "stream", "name": "stdout", "text": ["lm_loss=6.4219\n"]}, {"output_type": "error", "ename": "panic", "evalue": "boom", "traceback": []}`, "panic: boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			content := strings.Replace(executedNotebook, c.from, c.to, 1)
			if content == executedNotebook {
				t.Fatal("test case did not change the notebook")
			}
			r, err := ReadNotebookReport(writeNotebook(t, content))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want error containing %q", err, c.want)
			}
		})
	}
	if _, err := ReadNotebookReport(writeNotebook(t, "not json")); err == nil {
		t.Fatal("accepted a non-notebook")
	}
}

// TestSmokeNotebook executes notebooks/99-smoke-kernel.ipynb with Jupyter and
// the gonb kernel (scripts/notebooks.sh) and checks its figures. It needs
// kernel/install.sh to have run; without Jupyter it is skipped, unless
// GOMINITRON_REQUIRE_JUPYTER=1 (set in CI after installing), where that is a
// failure.
func TestSmokeNotebook(t *testing.T) {
	if testing.Short() {
		t.Skip("executes a notebook (~20s)")
	}
	if err := exec.Command("jupyter", "kernelspec", "list").Run(); err != nil {
		if os.Getenv("GOMINITRON_REQUIRE_JUPYTER") == "1" {
			t.Fatalf("jupyter is required: %v (run kernel/install.sh)", err)
		}
		t.Skipf("jupyter not installed (%v): run kernel/install.sh", err)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/notebooks.sh", "notebooks/99-smoke-kernel.ipynb")
	cmd.Env = append(os.Environ(), "NOTEBOOKS_OUT="+out)
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/notebooks.sh: %v\n%s", err, log)
	}
	r, err := ReadNotebookReport(filepath.Join(out, "99-smoke-kernel.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Images != 2 || r.Check() != nil {
		t.Fatalf("executed smoke notebook: %d figures, check: %v\n%s", r.Images, r.Check(), log)
	}
	if _, err := os.Stat(filepath.Join(out, "99-smoke-kernel.html")); err != nil {
		t.Fatalf("no HTML rendering: %v", err)
	}
}

// TestCommittedNotebooks checks every notebooks/*.ipynb: outputs stripped,
// the gonb kernel, and figure expectations declared for scripts/notebooks.sh.
func TestCommittedNotebooks(t *testing.T) {
	paths, err := filepath.Glob("../../notebooks/*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found (%v)", err)
	}
	for _, p := range paths {
		r, err := ReadNotebookReport(p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Executed != 0 || r.outputs != 0 {
			t.Errorf("%s has outputs: run go run ./internal/nbtools/nbcheck -strip %s", p, p)
		}
		if r.Kernel != "gonb" {
			t.Errorf("%s: kernelspec %q, want gonb", p, r.Kernel)
		}
		if r.Expect.Images == nil {
			t.Errorf("%s: metadata gominitron.expect.images is missing (the figure count CI checks)", p)
		}
	}
}

func TestStripNotebook(t *testing.T) {
	path := writeNotebook(t, executedNotebook)
	if ok, _ := IsStripped(path); ok {
		t.Fatal("executed notebook reported stripped")
	}
	changed, err := StripNotebook(path)
	if err != nil || !changed {
		t.Fatalf("StripNotebook: %v %v", changed, err)
	}
	if ok, err := IsStripped(path); !ok || err != nil {
		t.Fatalf("not stripped after StripNotebook: %v", err)
	}
	r, _ := ReadNotebookReport(path)
	if r.Expect.Images == nil || *r.Expect.Images != 2 || r.CodeCells != 2 {
		t.Fatalf("metadata or cells lost: %+v", r)
	}
	if changed, _ := StripNotebook(path); changed {
		t.Fatal("second strip changed the file")
	}
}
