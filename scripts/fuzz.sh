#!/usr/bin/env bash
# Runs every Fuzz* target of the project for a short time (FUZZTIME, default 10s).
# Minimisation of a new input is capped at FUZZMINIMIZETIME (default 1s): with
# Go's default (60s) a target whose inputs keep growing its coverage spends
# its whole budget minimising (the safetensors header target ran ~12
# executions a minute) and is never really fuzzed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-10s}"
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-1s}"
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
  pkg="./$(dirname "${f#./}")"
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
    echo "fuzz $pkg $fn ($FUZZTIME, minimize ≤ $FUZZMINIMIZETIME)"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg"
  done
done
