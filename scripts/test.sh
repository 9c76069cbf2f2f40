#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). CPU only, Go backend.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 40m ./... 2>&1 | tee /tmp/gominitron-test.log
echo "== fuzz (short)"
bash scripts/fuzz.sh
