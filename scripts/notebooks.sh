#!/usr/bin/env bash
# Executes notebooks headless with the GoNB kernel and checks them.
#
#   scripts/notebooks.sh [NOTEBOOK.ipynb ...]   (default: every notebooks/*.ipynb)
#
# For each notebook: jupyter nbconvert --execute into $NOTEBOOKS_OUT (default
# out/notebooks), failing on any cell error, then rendered to HTML next to it;
# finally kernel/nbcheck checks every executed notebook (all cells ran, no
# error output, the figure count and strings in its metadata
# "gominitron.expect").
#
# Environment: GOMINITRON_SCALE (default smoke: CI size), NOTEBOOK_TIMEOUT
# (seconds per cell, default 1200), NOTEBOOKS_OUT. GOMINITRON_HEADLESS=1 is
# set so that interactive notebooks render static output instead of widgets.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export GOMINITRON_SCALE="${GOMINITRON_SCALE:-smoke}"
export GOMINITRON_HEADLESS=1
OUT="${NOTEBOOKS_OUT:-out/notebooks}"
TIMEOUT="${NOTEBOOK_TIMEOUT:-1200}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# Always (re-)register the gonb kernel for THIS checkout: the kernel spec is
# user-wide and points at whichever checkout registered it last.
if [[ -x bin/gonb ]] && command -v jupyter >/dev/null; then
  kernel/install.sh --register-only
else
  echo "scripts/notebooks.sh: the gonb kernel is not installed; running kernel/install.sh" >&2
  kernel/install.sh
fi

if [[ $# -gt 0 ]]; then notebooks=("$@"); else notebooks=(notebooks/*.ipynb); fi
[[ -e ${notebooks[0]} ]] || { echo "scripts/notebooks.sh: no notebooks" >&2; exit 1; }

executed=()
status=0
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb")"
  echo "== $nb (scale $GOMINITRON_SCALE)" >&2
  start=$(date +%s)
  if ! jupyter nbconvert --to notebook --execute \
      --ExecutePreprocessor.kernel_name=gonb \
      --ExecutePreprocessor.timeout="$TIMEOUT" \
      --output-dir "$OUT" --output "$name" "$nb" 2> >(grep -v -e 'Debugger warning' -e 'frozen modules' -e 'PYDEVD' -e 'make the debugger' -e 'gopls' >&2); then
    echo "FAIL $nb: a cell failed (see above)" >&2
    status=1
    continue
  fi
  jupyter nbconvert --to html --output-dir "$OUT" "$OUT/$name" 2>/dev/null
  echo "   executed in $(( $(date +%s) - start ))s → $OUT/$name, ${name%.ipynb}.html" >&2
  executed+=("$OUT/$name")
done
if [[ ${#executed[@]} -gt 0 ]]; then
  go run ./kernel/nbcheck "${executed[@]}" || status=1
fi
exit $status
