#!/usr/bin/env bash
# A newcomer's first hour, as a test. Clones the committed HEAD into a fresh
# temporary folder and there:
#
#  1. runs, verbatim, every README.md code block that follows the line
#     <!-- fresh_clone_test.sh runs this block --> (the CLI build, the shell
#     pipeline, the reference-model examples), in README order, with bash -e,
#     as the user running the test (CI: root);
#  2. when Jupyter is installed: starts kernel/jupyter.sh as the README says
#     (must serve, also as root), and executes notebooks/99-smoke-kernel.ipynb
#     with the GoNB kernel, unfiltered.
#
# It fails on a non-zero exit, "command not found", a missing file or folder,
# a Go panic, usage/help text, a stderr line that reads like a failure
# (error, warning, klog E-lines, "not installed", "not trusted"), and on files
# the README's commands leave that git does not ignore. Prints every README
# command's duration (the timings quoted in the README).
#
#   scripts/fresh_clone_test.sh [--keep]     (--keep: leave the clone in place and print where)
#
# Environment: FRESH_CLONE_SKIP_JUPYTER=1 skips step 2.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KEEP=0
[[ ${1:-} == --keep ]] && KEEP=1
log() { echo "scripts/fresh_clone_test.sh: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

WORK="$(mktemp -d /tmp/gominitron-fresh-clone.XXXXXX)"
JUPYTER_PID=""
cleanup() {
  if [[ -n $JUPYTER_PID ]]; then kill -- -"$JUPYTER_PID" 2>/dev/null || kill "$JUPYTER_PID" 2>/dev/null || true; fi
  if ((KEEP)); then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null 2>&1 || fail "$ROOT is not a git checkout with a commit (the test clones its HEAD)"
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no) ]]; then
  log "note: uncommitted changes in $ROOT are not tested (the clone is of HEAD $(git -C "$ROOT" rev-parse --short HEAD))"
fi
CLONE="$WORK/gominitron"
git clone -q "$ROOT" "$CLONE"
cd "$CLONE"

# --- 1. README blocks, verbatim -------------------------------------------
# The blocks: the fenced code after each marker line.
python3 - README.md "$WORK/readme.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
marker = "<!-- fresh_clone_test.sh runs this block -->"
blocks = re.findall(re.escape(marker) + r"\s*\n```(?:sh|bash)\n(.*?)\n```", text, re.S)
if text.count(marker) != len(blocks) or not blocks:
    sys.exit(f"README.md: {text.count(marker)} markers but {len(blocks)} ```sh blocks right after them")
with open(sys.argv[2], "w") as f:
    f.write("\n".join(blocks) + "\n")
PY
log "running $(grep -c . "$WORK/readme.sh") README lines in $CLONE:"
sed 's/^/    /' "$WORK/readme.sh" >&2
# Environment as on a fresh machine: no project variables, the data dir is the clone's.
unset GOMINITRON_DATA GOMINITRON_MODEL GOMINITRON_SCALE GOEXPERIMENT
{
  # Trace with timestamps to fd 7 (not stderr), for the per-command durations.
  echo 'exec 7>"$TRACE"; BASH_XTRACEFD=7; PS4='"'"'+[$(date +%s.%N)] '"'"'; set -x'
  cat "$WORK/readme.sh"
  echo 'set +x; echo "+[$(date +%s.%N)] (end)" >&7'
} >"$WORK/run.sh"
status=0
TRACE="$WORK/trace.log" bash -e -o pipefail "$WORK/run.sh" >"$WORK/stdout.log" 2>"$WORK/stderr.log" || status=$?

# Durations: time between one traced top-level command and the next.
python3 - "$WORK/trace.log" <<'PY' >&2
import re, sys
steps = []
for line in open(sys.argv[1]):
    m = re.match(r"^\+\[(\d+\.\d+)\] (.*)", line.rstrip("\n"))
    if m:
        steps.append((float(m.group(1)), m.group(2)))
print("durations (s):")
for (t, cmd), (t2, _) in zip(steps, steps[1:]):
    if not cmd.startswith("set +x"):
        print(f"  {t2 - t:7.1f}  {cmd[:110]}")
PY
if ((status != 0)); then
  log "stdout (tail):"; tail -20 "$WORK/stdout.log" >&2
  log "stderr (tail):"; tail -40 "$WORK/stderr.log" >&2
  fail "the README's commands exited with status $status (last command: $(grep -v '(end)' "$WORK/trace.log" | tail -1))"
fi

# stderr carries the backend banner and progress lines; anything that reads
# like a failure is a bug (progress lines end in \r: split on it too).
noise='command not found|No such file or directory|panic|goroutine [0-9]|help requested|^usage:|[Ee]rror|[Ww]arning|not installed|not trusted|^E[0-9]{4} '
if tr '\r' '\n' <"$WORK/stderr.log" | grep -E "$noise" >"$WORK/noise.log"; then
  cat "$WORK/noise.log" >&2
  fail "the README's commands printed the lines above on stderr"
fi
if grep -E '^usage:|command not found' "$WORK/stdout.log" >&2; then fail "usage text on stdout"; fi
# What the README's commands write must be ignored by git (README: "where outputs go").
litter="$(git status --porcelain)"
[[ -z $litter ]] || fail "the README's commands left files that git does not ignore:
$litter"
# The pipeline's generate printed the decoded continuation.
grep -q '"continuation":"..*"' "$WORK/stdout.log" || fail "no generate output with a decoded \"continuation\" on stdout"
log "README blocks: PASS"

# --- 2. Jupyter: kernel/jupyter.sh serves; the kernel starts quietly -------
if [[ ${FRESH_CLONE_SKIP_JUPYTER:-0} == 1 ]] || ! command -v jupyter >/dev/null; then
  log "Jupyter not installed (or FRESH_CLONE_SKIP_JUPYTER=1): skipping kernel/jupyter.sh and the kernel start check"
  exit 0
fi
export JUPYTER_DATA_DIR="$WORK/jupyter-data" JUPYTER_RUNTIME_DIR="$WORK/jupyter-runtime"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
start=$(date +%s)
setsid kernel/jupyter.sh --ip=127.0.0.1 --port="$PORT" >"$WORK/jupyter.log" 2>&1 &
JUPYTER_PID=$!
up=0
for _ in $(seq 1 900); do # kernel/install.sh builds GoNB, goimports and gopls first
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/api/status"; then up=1; break; fi
  kill -0 "$JUPYTER_PID" 2>/dev/null || break
  sleep 1
done
if ((!up)); then tail -30 "$WORK/jupyter.log" >&2; fail "kernel/jupyter.sh did not serve on port $PORT"; fi
log "kernel/jupyter.sh served after $(($(date +%s) - start))s"
TOKEN="$(grep -o -m1 'token=[0-9a-f]*' "$WORK/jupyter.log" | cut -d= -f2)"
[[ -n $TOKEN ]] || fail "kernel/jupyter.sh printed no URL with a token"
# Open a notebook as the browser does: Jupyter logs "Notebook … is not trusted" unless the set-up trusted it.
curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/contents/00-quickstart.ipynb?token=$TOKEN" ||
  fail "Jupyter did not serve notebooks/00-quickstart.ipynb"
sleep 1
# Its set-up lines (Jupyter's own "[I …]" log lines aside, which include our probe's 403).
if grep -v '^\[' "$WORK/jupyter.log" | grep -E "$noise|allow-root" >"$WORK/noise.log"; then
  cat "$WORK/noise.log" >&2
  fail "kernel/jupyter.sh printed the lines above"
fi
if grep 'not trusted' "$WORK/jupyter.log" >&2; then fail "Jupyter reports the project's notebooks as not trusted"; fi
kill -- -"$JUPYTER_PID" 2>/dev/null || true
wait "$JUPYTER_PID" 2>/dev/null || true
JUPYTER_PID=""

# The kernel's own stderr, unfiltered (scripts/notebooks.sh filters some lines).
start=$(date +%s)
GOMINITRON_SCALE=smoke GOMINITRON_HEADLESS=1 jupyter nbconvert --to notebook --execute \
  --ExecutePreprocessor.kernel_name=gonb --output-dir "$WORK/nb" notebooks/99-smoke-kernel.ipynb \
  >"$WORK/nb.log" 2>&1 || { cat "$WORK/nb.log" >&2; fail "notebooks/99-smoke-kernel.ipynb did not run"; }
# nbconvert's own lines ([NbConvertApp] ...) and Python's debugger notices
# (frozen modules, an ipykernel/debugpy matter, not the project's) are not the kernel's.
if grep -v -e '^\[NbConvertApp\]' -e 'frozen modules' -e 'PYDEVD' -e 'make the debugger' -e 'Debugger warning' -e '^ *$' \
  "$WORK/nb.log" | grep -E "$noise|gopls" >"$WORK/noise.log"; then
  cat "$WORK/noise.log" >&2
  fail "the GoNB kernel printed the lines above at start"
fi
log "kernel start ($(($(date +%s) - start))s): quiet; PASS"
