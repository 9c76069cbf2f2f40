#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). CPU only, Go backend.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
# GoMLX's pure-Go backend uses AVX2/AVX-512 matmul kernels only with this
# experiment on (measured up to ~8x faster forward on this CPU); detected at run time.
export GOEXPERIMENT="${GOEXPERIMENT:-simd}"
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 40m ./... 2>&1 | tee /tmp/gominitron-test.log
echo "== fuzz (short)"
bash scripts/fuzz.sh
