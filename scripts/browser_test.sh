#!/usr/bin/env bash
# Real-browser tests of the notebooks, in Jupyter as kernel/jupyter.sh runs it.
#
#   scripts/browser_test.sh [--screenshot PATH]     (default docs/screenshots/interactive-pruning.png)
#
# Starts Jupyter on 127.0.0.1 (a free port, a random token, token auth on)
# on notebooks/ with kernel/jupyter.sh's configuration (its pre-save hook
# strips outputs), then kernel/browsertest drives headless Chromium:
#  1. notebooks/05-interactive-pruning.ipynb: run all cells, wait for the
#     pruning panel, move the FFN slider with the mouse, assert that the
#     displayed parameter count and LM loss change, save a full-page
#     screenshot, press Stop;
#  2. notebooks/00-quickstart.ipynb: run all cells, click Save, and check
#     that the tracked file on disk has no outputs (so the test command's
#     check of the committed notebooks still passes) while the page shows them.
# Prints the timings as JSON. The tracked notebooks are copied first and put
# back at exit whatever happened.
#
# The gonb kernel is registered for this checkout in a private
# JUPYTER_DATA_DIR (kernel/install.sh: Jupyter from apt when missing, GoNB and
# goimports built into bin/), so another checkout's kernel spec is never used.
#
# Environment: GOMINITRON_SCALE (default smoke), BROWSER_TEST_TIMEOUT (seconds,
# default 600, the whole test), CHROMIUM (default /usr/bin/chromium; installed
# with apt-get when missing and running as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SHOT="docs/screenshots/interactive-pruning.png"
if [[ "${1:-}" == "--screenshot" ]]; then SHOT="$2"; fi
export GOMINITRON_SCALE="${GOMINITRON_SCALE:-smoke}"
unset GOMINITRON_HEADLESS # the widgets need the browser
TIMEOUT="${BROWSER_TEST_TIMEOUT:-600}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [[ ! -x "$CHROMIUM" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "scripts/browser_test.sh: installing chromium (apt)" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    echo "scripts/browser_test.sh: $CHROMIUM not found (apt-get install chromium)" >&2
    exit 1
  fi
fi
WORK="$(mktemp -d)"
JUPYTER_PID=""
cleanup() {
  if [[ -n "$JUPYTER_PID" ]]; then kill "$JUPYTER_PID" 2>/dev/null || true; wait "$JUPYTER_PID" 2>/dev/null || true; fi
  restore 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
SAVED_NB=notebooks/00-quickstart.ipynb
BACKUPS=(notebooks/05-interactive-pruning.ipynb "$SAVED_NB")
mkdir -p "$WORK/backup"
for nb in "${BACKUPS[@]}"; do cp -p "$nb" "$WORK/backup/"; done
restore() { for nb in "${BACKUPS[@]}"; do cp -p "$WORK/backup/$(basename "$nb")" "$nb"; done; }
# A private kernel spec for THIS checkout: the user-wide one (~/.local/share/jupyter)
# is rewritten by whichever checkout ran kernel/install.sh last.
export JUPYTER_DATA_DIR="$WORK/jupyter-data"
kernel/install.sh >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; exit 1; }
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"

ROOT_FLAG=()
if [[ $(id -u) -eq 0 ]]; then ROOT_FLAG=(--allow-root); fi # containers and CI run as root

start=$(date +%s)
# Notebook 6 reads NotebookApp.token; Jupyter Server (Notebook 7) IdentityProvider.token.
jupyter notebook "${ROOT_FLAG[@]}" --no-browser --ip=127.0.0.1 --port="$PORT" --notebook-dir="$ROOT/notebooks" \
  --config="$ROOT/kernel/jupyter_notebook_config.py" \
  --NotebookApp.token="$TOKEN" --IdentityProvider.token="$TOKEN" --ServerApp.token="$TOKEN" \
  >"$WORK/jupyter.log" 2>&1 &
JUPYTER_PID=$!
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$PORT/api/status?token=$TOKEN" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
if ! curl -sf "http://127.0.0.1:$PORT/api/status?token=$TOKEN" >/dev/null; then
  echo "scripts/browser_test.sh: Jupyter did not start:" >&2; cat "$WORK/jupyter.log" >&2; exit 1
fi
if curl -sf "http://127.0.0.1:$PORT/api/status" >/dev/null 2>&1; then
  echo "scripts/browser_test.sh: Jupyter answers without the token (token auth must be on)" >&2; exit 1
fi

# Seen in 2 of ~20 CI runs: the page's "run all" never produced the panel (idle
# CPU, no cell error) and the wait timed out; a fresh browser on the same server
# passed. One retry, said out loud; a second failure fails the test.
for attempt in 1 2; do
  status=0
  timeout "$TIMEOUT" go run ./kernel/browsertest \
    --url "http://127.0.0.1:$PORT/notebooks/05-interactive-pruning.ipynb?token=$TOKEN" \
    --screenshot "$SHOT" --chromium "$CHROMIUM" --timeout "$((TIMEOUT - 30))s" || status=$?
  if ((status == 0 || attempt == 2)); then break; fi
  echo "scripts/browser_test.sh: 05-interactive-pruning failed (status $status); retrying once with a fresh browser" >&2
done
if ((status == 0)); then
  timeout "$TIMEOUT" go run ./kernel/browsertest \
    --url "http://127.0.0.1:$PORT/notebooks/$(basename "$SAVED_NB")?token=$TOKEN" \
    --save-check "$ROOT/$SAVED_NB" --chromium "$CHROMIUM" --timeout "$((TIMEOUT - 30))s" || status=$?
fi
echo "scripts/browser_test.sh: $( ((status == 0)) && echo PASS || echo FAIL ) in $(( $(date +%s) - start ))s (scale $GOMINITRON_SCALE)" >&2
if ((status != 0)); then echo "--- jupyter log (tail)" >&2; tail -40 "$WORK/jupyter.log" >&2; fi
exit $status
