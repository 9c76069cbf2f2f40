#!/usr/bin/env bash
# CPU speed against PyTorch (issue 15): the same random-weight float32 model
# shapes and rows — forward, AdamW training step, importance pass, greedy
# generation — timed for gominitron (Go backend, GOEXPERIMENT=simd,
# internal/benchcpu) and PyTorch CPU (scripts/bench_cpu_ref.py, plain torch,
# its best of 1 and 2 threads), interleaved, best of ROUNDS rounds, each run
# its own process after one untimed warm-up. Inside each process both sides time
# the best of STEADY runs (default 3) for the demo teacher's millisecond rows
# and of 1 run for the larger shapes: the steady state a training loop, a
# calibration pass over many batches or a decoding loop sees (the Go backend's
# first two runs of a small graph page-fault fresh buffers: docs/performance.md). Prints a markdown table with
# ours/torch ratios (> 1 = gominitron faster; also a CPU-seconds ratio against
# torch on 1 thread, steadier on a shared machine) and writes every run to
# $OUT/runs.jsonl. Without torch it says so and prints our numbers only.
#
#   scripts/bench_cpu.sh                 # demo teacher + SmolLM-135M shape, 3 rounds (~15 min on 2 loaded cores)
#   BENCH_1B=1 scripts/bench_cpu.sh      # + the Llama-3.2-1B shape: forward and pass 1×128, generation 4×32 (≈ 5 GB RAM per side)
#   SMOKE=1 scripts/bench_cpu.sh         # seconds (scripts/test.sh): our side only, demo teacher, tiny batches, 1 round
#
# Torch is Debian's python3-torch with OpenBLAS (apt-get install -y python3-torch
# libopenblas0-pthread; with the reference BLAS the script stops); PYTHON
# picks the interpreter (default: /usr/bin/python3 when it imports torch).
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the torch runs only
# (they slow its BLAS kernels).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
export GOEXPERIMENT="${GOEXPERIMENT:-simd}"
OUT="${OUT:-out/bench-cpu}"
ROUNDS="${ROUNDS:-3}"
STEADY="${STEADY:-3}"
SMOKE="${SMOKE:-0}"
mkdir -p "$OUT"
BIN="$OUT/benchcpu"
go build -o "$BIN" ./internal/benchcpu

if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  /usr/bin/python3 -c 'import torch' 2>/dev/null && PYTHON=/usr/bin/python3
fi
TORCH=1
if [[ $SMOKE == 1 ]]; then
  TORCH=0 # importing torch alone takes seconds; the reference script is only compiled
  python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' scripts/bench_cpu_ref.py
elif ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  TORCH=0
  echo "bench_cpu: PyTorch is not installed for $PYTHON (apt-get install -y python3-torch): gominitron numbers only"
else
  # Debian's torch calls whichever libblas.so.3 is installed: without OpenBLAS
  # it is the reference (netlib) BLAS, ~30× slower, and every ratio is void.
  blas=$("$PYTHON" -c 'import torch; torch.ones(64, 64) @ torch.ones(64, 64)
print(" ".join(sorted({l.split()[-1] for l in open("/proc/self/maps") if "/libblas.so" in l})))')
  if [[ -n $blas && ! $blas =~ openblas|mkl|blis|atlas ]]; then
    echo "bench_cpu: PyTorch uses the reference BLAS ($blas), not OpenBLAS: install it (apt-get install -y libopenblas0-pthread) before comparing" >&2
    exit 1
  fi
fi

# shape config | row | batch | seq | new tokens (generate)
TEACHER=models/demo-teacher/config.json
SMOL=recipes/bench/smollm-135m.json
if [[ $SMOKE == 1 ]]; then
  ROUNDS=1
  CASES=("$TEACHER forward 2 16 4" "$TEACHER train 2 16 4" "$TEACHER pass 2 16 4" "$TEACHER generate 2 8 4")
else
  CASES=()
  for cfg in "$TEACHER" "$SMOL"; do
    CASES+=("$cfg forward 8 128 32" "$cfg train 8 128 32" "$cfg pass 8 128 32" "$cfg generate 4 32 32")
  done
  # The 1B shape: forward, importance pass and generation (≈ 5 GB of float32 weights per
  # side); no training step: float32 weights, gradients and AdamW moments are ≈ 20 GB per
  # side before activations, more than a 24 GiB workshop machine holds next to the other side.
  [[ ${BENCH_1B:-0} == 1 ]] && CASES+=("recipes/bench/llama-3.2-1b.json forward 1 128 32"
    "recipes/bench/llama-3.2-1b.json pass 1 128 32" "recipes/bench/llama-3.2-1b.json generate 4 32 32")
fi

RUNS="$OUT/runs.jsonl"
: > "$RUNS"
echo "bench_cpu: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS round(s), ${#CASES[@]} cases → $RUNS" >&2
for round in $(seq 1 "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    read -r cfg row batch seq new <<< "$c"
    inproc=1
    [[ $cfg == "$TEACHER" ]] && inproc=$STEADY
    echo "bench_cpu: round $round/$ROUNDS: $row $(basename "$(dirname "$cfg")")/$(basename "$cfg") ${batch}×${seq}" >&2
    "$BIN" -config "$cfg" -row "$row" -batch "$batch" -seq "$seq" -new "$new" -rounds "$inproc" 2>/dev/null \
      | sed "s|\"shape\":\"[^\"]*\"|\"shape\":\"$cfg\"|" >> "$RUNS"
    if [[ $TORCH == 1 ]]; then
      for threads in 1 2; do
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" scripts/bench_cpu_ref.py "$cfg" "$row" "$batch" "$seq" "$new" "$inproc" "$threads" \
          | sed "s|\"shape\": \"[^\"]*\"|\"shape\": \"$cfg\"|" >> "$RUNS"
      done
    fi
  done
done

python3 - "$RUNS" <<'PY'
import json, sys
best, cpu = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["shape"], r["row"], r["batch"], r["seq"], r["impl"])
    if key not in best or r["tokens_per_sec"] > best[key]["tokens_per_sec"]:
        best[key] = r
    if r.get("cpu_seconds") and (r["impl"] == "gominitron" or r.get("threads") == 1):
        cpu[key] = min(cpu.get(key, r["cpu_seconds"]), r["cpu_seconds"])
unit = {"forward": "tok/s", "train": "tok/s", "pass": "tok/s", "generate": "new tok/s"}
# ratio: wall-clock tokens/s against torch's best thread count (> 1 = gominitron faster).
# CPU ratio: CPU seconds (all threads) of torch on 1 thread / ours — the work
# each side burns, less sensitive than wall time to other processes on a shared machine.
print("| shape | row | batch × seq | gominitron | PyTorch CPU (threads) | ratio | CPU ratio |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for (shape, row, b, s, impl), r in best.items():
    if impl != "gominitron":
        continue
    t = best.get((shape, row, b, s, "torch"))
    ref = "%.0f %s (%d)" % (t["tokens_per_sec"], unit[row], t["threads"]) if t else "—"
    ratio = "%.2f×" % (r["tokens_per_sec"] / t["tokens_per_sec"]) if t else "—"
    ours, theirs = cpu.get((shape, row, b, s, impl)), cpu.get((shape, row, b, s, "torch"))
    cpu_ratio = "%.2f×" % (theirs / ours) if ours and theirs else "—"
    print("| %s | %s | %d × %d | %.0f %s | %s | %s | %s |" % (shape, row, b, s, r["tokens_per_sec"], unit[row], ref, ratio, cpu_ratio))
PY
