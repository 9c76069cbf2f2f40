#!/usr/bin/env bash
# Llama-3.1-8B vs width-pruned 4B (hidden 3072, FFN 9216) vs depth-pruned 4B
# (16 layers) serving throughput on random bf16 weights, at the paper's batch
# sizes (32 for 8B, 64 for the 4B shapes), ISL/OSL 128/128 by default.
#
# Runs on a GPU machine with no Go toolchain (docs/gpu.md): build the
# binary here and carry it:
#   go build -o gpu/gominitron ./cmd/gominitron
#   bash recipes/bench/gpu.sh            # on the GPU machine, from the repo root
# Writes one JSON per shape and ratios.json under $OUT (default /tmp/bench).
set -euo pipefail
BIN=${BIN:-gpu/gominitron}
OUT=${OUT:-/tmp/bench}
ISL=${ISL:-128}
OSL=${OSL:-128}
REPEATS=${REPEATS:-2}
mkdir -p "$OUT"
if [ -z "${GOMLX_BACKEND:-}" ]; then
  PLUGIN=$(python3 -c 'import jax_plugins.xla_cuda13 as p, os; print(os.path.join(os.path.dirname(p.__file__), "xla_cuda_plugin.so"))')
  export GOPJRT_CUDA_CHECKS=0 GOMLX_BACKEND="xla:$PLUGIN"
fi
run() { # shape batch
  "$BIN" bench --config "recipes/bench/$1.json" --random --dtype bfloat16 --batch "$2" \
    --input-len "$ISL" --output-len "$OSL" --repeats "$REPEATS" --out "$OUT/$1.json" >/dev/null
}
run llama-3.1-8b 32
run width-4b 64
run depth-4b 64
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
r = {s: json.load(open(os.path.join(out, s + ".json"))) for s in ["llama-3.1-8b", "width-4b", "depth-4b"]}
base = r["llama-3.1-8b"]["requests_per_sec"]
ratios = {s: {"batch": v["batch"], "requests_per_sec": v["requests_per_sec"],
              "decode_tokens_per_sec": v["decode_tokens_per_sec"],
              "prefill_tokens_per_sec": v["prefill_tokens_per_sec"],
              "vs_8b": v["requests_per_sec"] / base} for s, v in r.items()}
json.dump(ratios, open(os.path.join(out, "ratios.json"), "w"), indent=2)
print(json.dumps(ratios, indent=2))
PY
