#!/usr/bin/env bash
# Sets everything up (kernel/install.sh; fast when already installed) and opens
# Jupyter on notebooks/ with token authentication on. It keeps running in this
# terminal until Ctrl-C. Extra arguments go to `jupyter notebook` (e.g.
# --ip=0.0.0.0 --port=8888 in Docker); --allow-root is added when run as root.
# Saving a notebook strips its outputs (kernel/jupyter_notebook_config.py), so
# the tracked notebooks stay clean for the tests.
#
#   kernel/jupyter.sh                 # first run installs; later runs only refresh the kernel spec
#   kernel/jupyter.sh --headless      # instead: execute every notebook to HTML (scripts/notebooks.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ${1:-} == --headless ]]; then
  shift
  exec "$ROOT/scripts/notebooks.sh" "$@"
fi
if [[ -x $ROOT/bin/gonb ]] && command -v jupyter >/dev/null; then
  # Already installed: re-detect the backend (a CUDA plugin may be mounted now).
  "$ROOT/kernel/install.sh" --register-only
else
  "$ROOT/kernel/install.sh"
fi
cd "$ROOT/notebooks"
ARGS=(--no-browser --notebook-dir="$ROOT/notebooks" --config="$ROOT/kernel/jupyter_notebook_config.py")
if [[ $(id -u) == 0 && " $* " != *" --allow-root "* ]]; then ARGS+=(--allow-root); fi # containers, cloud VMs
# Token authentication stays on (Jupyter prints the URL with the token).
exec jupyter notebook "${ARGS[@]}" "$@"
