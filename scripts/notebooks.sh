#!/usr/bin/env bash
# Executes notebooks headless with the GoNB kernel and checks them.
#
#   scripts/notebooks.sh [NOTEBOOK.ipynb ...]   (default: every notebooks/*.ipynb)
#
# Each notebook runs alone from a fresh state, to prove that it needs no other
# notebook and nothing left over: a clean copy of the checkout's files (what
# git tracks, plus new files not ignored; no out/, no data/, no build
# outputs) in a scratch folder that is emptied before every notebook (its
# path stays the same, so Go's build cache still applies). There the notebook
# is executed with jupyter nbconvert --execute into $NOTEBOOKS_OUT (default
# out/notebooks of this checkout), failing on any cell error, and rendered to
# HTML next to it; finally internal/nbtools/nbcheck checks every executed
# notebook (all cells ran, no error output, the figure count and strings in
# its metadata "gominitron.expect").
#
# Environment: GOMINITRON_SCALE (default smoke: CI size), NOTEBOOK_TIMEOUT
# (seconds per cell, default 1200), NOTEBOOKS_OUT, NOTEBOOKS_FRESH (default 1;
# 0 runs in this checkout instead, sharing its out/ and data/ between
# notebooks, e.g. to reuse a fetched corpus), NOTEBOOKS_SCRATCH (the scratch
# folder; default a folder under ${TMPDIR:-/tmp} named after this checkout).
# GOMINITRON_HEADLESS=1 is set so that interactive notebooks render static
# output instead of widgets.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export GOMINITRON_SCALE="${GOMINITRON_SCALE:-smoke}"
export GOMINITRON_HEADLESS=1
OUT="${NOTEBOOKS_OUT:-out/notebooks}"
TIMEOUT="${NOTEBOOK_TIMEOUT:-1200}"
FRESH="${NOTEBOOKS_FRESH:-1}"
SCRATCH="${NOTEBOOKS_SCRATCH:-${TMPDIR:-/tmp}/gominitron-notebooks-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
scratch_parent="${SCRATCH%/}"
if [[ $SCRATCH != /* ]]; then
  echo "scripts/notebooks.sh: NOTEBOOKS_SCRATCH=$SCRATCH: give an absolute path" >&2
  exit 2
fi
if [[ -z $scratch_parent || $ROOT/ == "$scratch_parent"/* ]]; then
  echo "scripts/notebooks.sh: NOTEBOOKS_SCRATCH=$SCRATCH holds this checkout; it is emptied before every notebook: choose another folder" >&2
  exit 2
fi
if [[ $FRESH == 1 ]] && ! git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "scripts/notebooks.sh: $ROOT is not a git work tree, so there is no list of its files to copy; running the notebooks in place (NOTEBOOKS_FRESH=0)" >&2
  FRESH=0
fi

# The GoNB kernel (bin/gonb, bin/goimports) is built once, in this checkout.
if [[ ! -x bin/gonb ]] || ! command -v jupyter >/dev/null; then
  echo "scripts/notebooks.sh: the gonb kernel is not installed; running kernel/install.sh" >&2
  kernel/install.sh
fi

# fresh_copy empties $SCRATCH and copies this checkout's files into it: what
# git tracks (as they are in the work tree) and new files git does not ignore.
fresh_copy() {
  rm -rf "$SCRATCH"
  mkdir -p "$SCRATCH"
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$SCRATCH"
  ln -s "$ROOT/bin" "$SCRATCH/bin" # the kernel's tools, not project state
}

# Always (re-)register the gonb kernel for the folder the notebook runs in:
# the kernel spec is user-wide and points at whichever checkout registered it
# last.
register() { (cd "$1" && kernel/install.sh --register-only); }

if [[ $# -gt 0 ]]; then notebooks=("$@"); else notebooks=(notebooks/*.ipynb); fi
[[ -e ${notebooks[0]} ]] || { echo "scripts/notebooks.sh: no notebooks" >&2; exit 1; }

executed=()
status=0
[[ $FRESH == 1 ]] || register "$ROOT"
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb")"
  src="$(cd "$(dirname "$nb")" && pwd)/$name"
  dir="$ROOT"
  if [[ $FRESH == 1 ]]; then
    case "$src" in
      "$ROOT"/*) ;;
      *) echo "FAIL $nb: not inside $ROOT (a fresh run copies this checkout)" >&2; status=1; continue ;;
    esac
    fresh_copy
    register "$SCRATCH"
    dir="$SCRATCH"
    src="$SCRATCH/${src#"$ROOT"/}"
  fi
  where=""
  [[ $FRESH == 1 ]] && where=", fresh copy in $dir"
  echo "== $nb (scale $GOMINITRON_SCALE$where)" >&2
  start=$(date +%s)
  if ! (cd "$dir" && jupyter nbconvert --to notebook --execute \
      --ExecutePreprocessor.kernel_name=gonb \
      --ExecutePreprocessor.timeout="$TIMEOUT" \
      --output-dir "$OUT" --output "$name" "$src") 2> >(grep -v -e 'Debugger warning' -e 'frozen modules' -e 'PYDEVD' -e 'make the debugger' -e 'gopls' >&2); then
    echo "FAIL $nb: a cell failed (see above)" >&2
    status=1
    continue
  fi
  jupyter nbconvert --to html --output-dir "$OUT" "$OUT/$name" 2>/dev/null
  echo "   executed in $(( $(date +%s) - start ))s → $OUT/$name, ${name%.ipynb}.html" >&2
  executed+=("$OUT/$name")
done
if [[ $FRESH == 1 ]]; then
  rm -rf "$SCRATCH"
  register "$ROOT" >/dev/null 2>&1 || true # leave the kernel pointing at this checkout
fi
if [[ ${#executed[@]} -gt 0 ]]; then
  go run ./internal/nbtools/nbcheck "${executed[@]}" || status=1
fi
exit $status
