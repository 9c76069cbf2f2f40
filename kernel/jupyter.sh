#!/usr/bin/env bash
# Sets everything up (kernel/install.sh; fast when already installed) and opens
# Jupyter on notebooks/ with token authentication on. Extra arguments go to
# `jupyter notebook` (e.g. --ip=0.0.0.0 --port=8888 --allow-root in Docker).
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
# Token authentication stays on (Jupyter prints the URL with the token).
exec jupyter notebook --no-browser --notebook-dir="$ROOT/notebooks" "$@"
