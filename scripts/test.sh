#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). CPU only, Go backend.
#
#   scripts/test.sh            # everything: vet, unit tests, fuzz, fresh clone, notebooks, browser test
#   SKIP_NOTEBOOKS=1 scripts/test.sh   # no Jupyter install, no notebook runs
#
# It installs what it needs itself (Jupyter and Chromium from apt, the GoNB
# kernel via kernel/install.sh) unless SKIP_NOTEBOOKS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
# GoMLX's pure-Go backend uses AVX2/AVX-512 matmul kernels only with this
# experiment on (measured up to ~8x faster forward on this CPU); detected at run time.
export GOEXPERIMENT="${GOEXPERIMENT:-simd}"
SKIP_NOTEBOOKS="${SKIP_NOTEBOOKS:-0}"

if [[ $SKIP_NOTEBOOKS != 1 ]]; then
  echo "== kernel/install.sh (Jupyter + GoNB kernel)"
  kernel/install.sh
  # With the kernel installed, notebook tests must not skip.
  export GOMINITRON_REQUIRE_JUPYTER=1
fi
# [issue 19, evalsuite] MBPP's code sandbox is bubblewrap; its tests skip without it.
command -v bwrap >/dev/null || { command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive $([[ $EUID -ne 0 ]] && echo sudo) apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; } || echo "scripts/test.sh: bubblewrap not installed: the MBPP sandbox tests skip"
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 45m ./... 2>&1 | tee /tmp/gominitron-test.log
# issue 15: the patched GoMLX compute module (third_party/compute/PATCHES.md) is its own
# module, outside ./...: its tests, with the SIMD kernels and with the plain-Go fallbacks.
echo "== third_party/compute (patched Go backend)"
(cd third_party/compute && go test -count=1 ./... && GOEXPERIMENT= go test -count=1 ./...)
echo "== fuzz (short)"
bash scripts/fuzz.sh
# A fresh clone: the README's build line and pipeline blocks run verbatim
# (and, with Jupyter, kernel/jupyter.sh and a quiet kernel start).
echo "== fresh clone (scripts/fresh_clone_test.sh)"
FRESH_CLONE_SKIP_JUPYTER="$SKIP_NOTEBOOKS" scripts/fresh_clone_test.sh
echo "== bench_cpu.sh (smoke)"; SMOKE=1 OUT=out/bench-cpu-smoke scripts/bench_cpu.sh # issue 15: the CPU benchmark's driver, so it cannot rot
echo "== gpu_check.sh --cpu-smoke"; GOOS=$(go env GOHOSTOS) GOARCH=$(go env GOHOSTARCH) PACK=0 bash scripts/build_gpu.sh out/gpu-smoke >/dev/null && GPU_BIN=out/gpu-smoke OUT=out/gpu-check-smoke bash scripts/gpu_check.sh --cpu-smoke # issue 14: the device check's CPU smoke mode, so it cannot rot
if [[ $SKIP_NOTEBOOKS != 1 ]]; then
  echo "== notebooks (headless, scale ${GOMINITRON_SCALE:-smoke})"
  scripts/notebooks.sh
  # Real browser (headless Chromium, installed from apt when missing):
  # 05-interactive-pruning, move a slider, check the readout changes.
  echo "== browser test (notebooks/05-interactive-pruning.ipynb)"
  mkdir -p out/browser
  scripts/browser_test.sh --screenshot out/browser/interactive-pruning.png
fi
echo "== all tests passed"
