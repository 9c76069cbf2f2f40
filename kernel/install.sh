#!/usr/bin/env bash
# Installs everything a gominitron notebook needs and registers the GoNB
# Jupyter kernel ("gonb"). Idempotent; runs as root in CI/Docker (apt) or as a
# user who already has Jupyter.
#
#   kernel/install.sh                  # full install
#   kernel/install.sh --register-only  # only rewrite the kernel spec (backend env), e.g. at container start
#
# Environment:
#   GOMINITRON_BACKEND  force the kernel's GOMLX_BACKEND (e.g. "go", "xla:/abs/xla_cuda_plugin.so")
#   PJRT_PLUGIN_LIBRARY_PATH  a CUDA PJRT plugin file or directory to use
#   GOMINITRON_PYTHON   a python3 with JAX's CUDA plugin (default: python3 on PATH)
#   JUPYTER_DATA_DIR    where the kernel spec goes (default ~/.local/share/jupyter)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REGISTER_ONLY=0
for a in "$@"; do
  case "$a" in
    --register-only) REGISTER_ONLY=1 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
log() { echo "kernel/install.sh: $*" >&2; }

command -v go >/dev/null || { log "Go is not installed (need the version in go.mod: $(sed -n 's/^go //p' go.mod))"; exit 1; }

# 1. Jupyter (notebook server, nbconvert, nbclient) from the system package manager when missing.
have_jupyter() {
  command -v jupyter >/dev/null && jupyter nbconvert --version >/dev/null 2>&1 &&
    jupyter notebook --version >/dev/null 2>&1 && jupyter kernelspec --version >/dev/null 2>&1
}
if [[ $REGISTER_ONLY == 0 ]] && ! have_jupyter; then
  pkgs=(jupyter-notebook jupyter-nbconvert jupyter-client python3-nbconvert python3-nbclient)
  if command -v apt-get >/dev/null; then
    SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
    log "installing ${pkgs[*]} with apt-get (first run only; a few minutes, progress below)"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  else
    log "Jupyter is missing and there is no apt-get: install Jupyter (notebook + nbconvert) yourself, then rerun"; exit 1
  fi
  have_jupyter || { log "Jupyter still not usable after installing"; exit 1; }
fi
command -v jupyter >/dev/null || { log "jupyter not found (run without --register-only)"; exit 1; }

# 2. GoNB, goimports and gopls (GoNB's autocompletion), at the versions pinned
# in go.mod (internal/nbtools/tools.go). GOEXPERIMENT as the rest of the project, so the
# build cache is shared.
export GOEXPERIMENT="${GOEXPERIMENT:-simd}"
mkdir -p bin
if [[ $REGISTER_ONLY == 0 || ! -x bin/gonb || ! -x bin/goimports || ! -x bin/gopls ]]; then
  log "building bin/gonb ($(go list -m -f '{{.Version}}' github.com/janpfeifer/gonb)), bin/goimports ($(go list -m -f '{{.Version}}' golang.org/x/tools)) and bin/gopls ($(go list -m -f '{{.Version}}' golang.org/x/tools/gopls)); the first build takes a few minutes"
  go build -o bin/gonb github.com/janpfeifer/gonb
  go build -o bin/goimports golang.org/x/tools/cmd/goimports
  go build -o bin/gopls golang.org/x/tools/gopls
fi

# 3. Backend environment for the kernel.
find_cuda_plugin() {
  local p="${PJRT_PLUGIN_LIBRARY_PATH:-}"
  if [[ -n $p ]]; then
    [[ -f $p ]] && { echo "$p"; return; }
    for f in "$p"/xla_cuda_plugin.so "$p"/pjrt_c_api_cuda_plugin.so "$p"/*cuda*.so; do [[ -f $f ]] && { echo "$f"; return; }; done
  fi
  for f in "$HOME"/.local/lib/go-xla/*cuda*.so /usr/local/lib/go-xla/*cuda*.so; do [[ -f $f ]] && { echo "$f"; return; }; done
  local py
  for py in ${GOMINITRON_PYTHON:-} python3; do
    command -v "$py" >/dev/null || continue
    timeout 20 "$py" - <<'PY' 2>/dev/null || true
import importlib.util as u, os
for n in ("xla_cuda13", "xla_cuda12"):
    try:
        s = u.find_spec("jax_plugins." + n)
    except Exception:
        s = None
    if s and s.origin:
        f = os.path.join(os.path.dirname(s.origin), "xla_cuda_plugin.so")
        if os.path.isfile(f):
            print(f); break
PY
  done
}
BACKEND="${GOMINITRON_BACKEND:-}"
if [[ -z $BACKEND ]]; then
  PLUGIN="$(find_cuda_plugin | head -n1)"
  if [[ -n $PLUGIN ]]; then BACKEND="xla:$(cd "$(dirname "$PLUGIN")" && pwd)/$(basename "$PLUGIN")"; else BACKEND="go"; fi
fi
log "kernel backend: GOMLX_BACKEND=$BACKEND"

# 4. Register the kernel: GoNB writes kernel.json (argv with -go_work=$ROOT, so
# every notebook's module has the project in its go.work and imports
# github.com/gominitron/gominitron/... from this checkout); then we add the env.
bin/gonb --install --force_deps --go_work="$ROOT" --logtostderr=false >/dev/null 2>&1 || bin/gonb --install --force_deps --go_work="$ROOT"
DATA_DIR="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}"
SPEC="$DATA_DIR/kernels/gonb/kernel.json"
[[ -f $SPEC ]] || { log "GoNB did not write $SPEC"; exit 1; }
GOROOT_BIN="$(go env GOROOT)/bin"
GOPATH_BIN="$(go env GOPATH | cut -d: -f1)/bin"
SPEC="$SPEC" ROOT="$ROOT" BACKEND="$BACKEND" KPATH="$ROOT/bin:$GOROOT_BIN:$GOPATH_BIN:$PATH" \
  GOMODCACHE_V="$(go env GOMODCACHE)" GOPROXY_V="$(go env GOPROXY)" python3 - <<'PY'
import json, os
spec = os.environ["SPEC"]
with open(spec) as f:
    k = json.load(f)
k["display_name"] = "Go (gonb, gominitron)"
# Start GoNB through kernel/gonb_kernel.sh (drops GoNB's spurious "Error message"
# start-up line; see there). Idempotent: the wrapper is added once.
wrapper = os.path.join(os.environ["ROOT"], "kernel", "gonb_kernel.sh")
if k["argv"][0] != wrapper:
    k["argv"] = [wrapper] + k["argv"]
env = {
    "GOMLX_BACKEND": os.environ["BACKEND"],
    "GOMINITRON_ROOT": os.environ["ROOT"],
    "PATH": ":".join(dict.fromkeys(p for p in os.environ["KPATH"].split(":") if p)),
    "GOMODCACHE": os.environ["GOMODCACHE_V"],
    "GOPROXY": os.environ["GOPROXY_V"],
    # GoMLX's Go backend uses its AVX2/AVX-512 matmul kernels only when cells
    # are built with this experiment (detected at run time; ~8x on AVX-512).
    "GOEXPERIMENT": os.environ.get("GOEXPERIMENT") or "simd",
}
if env["GOMLX_BACKEND"].startswith("xla:"):
    env["GOPJRT_CUDA_CHECKS"] = "0"
k["env"] = env
tmp = spec + ".tmp"
with open(tmp, "w") as f:
    json.dump(k, f, indent=1)
os.replace(tmp, spec)
PY
# (Output captured first: `| grep -q` under pipefail can fail on SIGPIPE.)
specs="$(jupyter kernelspec list 2>/dev/null || true)"
grep -q '^ *gonb ' <<<"$specs" || { log "kernel gonb not visible to jupyter (JUPYTER_DATA_DIR=$DATA_DIR): $specs"; exit 1; }
log "registered kernel gonb in $SPEC (project $ROOT)"

# 5. Trust the project's own notebooks (Jupyter's signature database is in
# JUPYTER_DATA_DIR), so opening one does not log "Notebook … is not trusted".
trust_notebooks() {
  if jupyter trust --help >/dev/null 2>&1; then jupyter trust "$@"; return; fi
  # Debian's Jupyter ships no jupyter-trust command: run nbformat's
  # TrustNotebookApp (what jupyter-trust runs) with Jupyter's own Python.
  local shebang py
  shebang="$(sed -n '1s/^#! *//p' "$(command -v jupyter)")"
  for py in "$shebang" /usr/bin/python3 python3; do
    read -r -a cmd <<<"$py"
    [[ ${#cmd[@]} -gt 0 ]] && "${cmd[@]}" -c 'import nbformat.sign' 2>/dev/null || continue
    "${cmd[@]}" -m nbformat.sign "$@"
    return
  done
  return 1
}
trust_notebooks notebooks/*.ipynb >/dev/null 2>&1 || log "warning: could not trust notebooks/*.ipynb (nbformat's jupyter trust); Jupyter will say they are not trusted"
