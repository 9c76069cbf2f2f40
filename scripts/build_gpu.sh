#!/usr/bin/env bash
# Builds what scripts/gpu_check.sh runs on a GPU machine that has no Go
# toolchain: the CLI and the test binaries of the checked packages, cgo on
# (the XLA backend needs it), linux/amd64, stripped and xz-compressed (the
# device tool carries at most 64 MiB: ~100 MiB of binaries become ~30), into
# gpu/ (ignored by git) or the folder given. gpu_check.sh unpacks them under
# its $OUT with python3's lzma.
#
#   bash scripts/build_gpu.sh            # → gpu/gominitron.xz, gpu/ops_*.test.xz, gpu/BUILD_INFO
#   PACK=0 bash scripts/build_gpu.sh DIR # plain binaries (what scripts/test.sh's smoke run uses)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-gpu}
export GOEXPERIMENT=${GOEXPERIMENT:-simd} CGO_ENABLED=1 GOOS=${GOOS:-linux} GOARCH=${GOARCH:-amd64} # the GPU image: linux/amd64
mkdir -p "$DIR"
FLAGS=(-ldflags=-s\ -w)
NAMES=(gominitron ops_llm.test ops_importance.test ops_prune.test ops_distill.test)
rm -f "${NAMES[@]/#/$DIR/}" "${NAMES[@]/#/$DIR/}"{,.xz}
go build "${FLAGS[@]}" -o "$DIR/gominitron" ./cmd/gominitron
for p in llm importance prune distill; do
  go test -c "${FLAGS[@]}" -o "$DIR/ops_$p.test" "./ops/$p"
done
{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +uncommitted)"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(go version | cut -d' ' -f3) GOEXPERIMENT=$GOEXPERIMENT"
} >"$DIR/BUILD_INFO"
if [[ ${PACK:-1} != 0 ]]; then
  python3 - "$DIR" "${NAMES[@]}" <<'PY'
import lzma, os, sys
d = sys.argv[1]
for n in sys.argv[2:]:
    p = os.path.join(d, n)
    with open(p, "rb") as f, open(p + ".xz.tmp", "wb") as g:
        g.write(lzma.compress(f.read(), preset=1))
    os.replace(p + ".xz.tmp", p + ".xz")
    os.remove(p)
PY
fi
du -sh "$DIR"
