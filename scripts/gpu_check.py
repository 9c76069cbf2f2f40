#!/usr/bin/env python3
"""Helpers of scripts/gpu_check.sh, standard library only (no numpy needed).

    gpu_check.py forward REF.safetensors GOT.safetensors TOL     # logits + hidden_states.*: max|got-ref| <= TOL*max|ref| per tensor
    gpu_check.py scores A.json B.json TOL                         # importance scores: every numeric array of A (timings aside) in B, same bound per key
    gpu_check.py ids A.json B.json [MIN_PREFIX]                   # generate outputs {"ids": [...]}: equal, or equal on MIN_PREFIX new tokens
    gpu_check.py table RESULTS.jsonl SPEED_DIR OUT.json OUT.md    # summary JSON + Markdown tables: every step, speed vs transformers
                                                                  # (MFU needs PEAK_TFLOPS, the card's dense bf16 peak)

Each comparison prints one JSON line and exits 0 (pass) or 1 (fail).
"""
import json
import math
import os
import struct
import sys


def safetensors_raw(path):
    """name -> (dtype, dims, raw little-endian bytes) of every tensor in a
    safetensors file (the __metadata__ entry aside); check_pruned_hf.py
    decodes the same bytes with numpy."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    return {name: (info["dtype"], info["shape"], data[info["data_offsets"][0] : info["data_offsets"][1]])
            for name, info in header.items() if name != "__metadata__"}


def read_safetensors(path):
    """name -> (dims, flat list of floats/ints)."""
    out = {}
    for name, (dt, dims, raw) in safetensors_raw(path).items():
        if dt == "F32":
            vals = list(struct.unpack("<%df" % (len(raw) // 4), raw))
        elif dt == "BF16":
            halves = struct.unpack("<%dH" % (len(raw) // 2), raw)
            vals = list(struct.unpack("<%df" % len(halves), struct.pack("<%dI" % len(halves), *[h << 16 for h in halves])))
        elif dt == "I32":
            vals = list(struct.unpack("<%di" % (len(raw) // 4), raw))
        elif dt == "I64":
            vals = list(struct.unpack("<%dq" % (len(raw) // 8), raw))
        else:
            raise SystemExit("%s: tensor %s has unsupported dtype %s" % (path, name, dt))
        out[name] = (dims, vals)
    return out


def rel_error(ref, got):
    """max|got-ref| / max|ref| (inf when a value is not finite)."""
    if len(ref) != len(got):
        return math.inf
    max_ref = max((abs(x) for x in ref), default=0.0)
    max_diff = 0.0
    for x, y in zip(ref, got):
        if not math.isfinite(y):
            return math.inf
        max_diff = max(max_diff, abs(x - y))
    return max_diff / max_ref if max_ref > 0 else max_diff


def cmd_forward(ref_path, got_path, tol):
    ref, got = read_safetensors(ref_path), read_safetensors(got_path)
    worst, worst_name, missing = 0.0, "", []
    for name, (dims, vals) in ref.items():
        if not (name == "logits" or name.startswith("hidden_states.")):
            continue
        if name not in got:
            missing.append(name)
            continue
        if got[name][0] != dims:
            missing.append(name + " (shape %s, want %s)" % (got[name][0], dims))
            continue
        e = rel_error(vals, got[name][1])
        if e >= worst:
            worst, worst_name = e, name
    ok = not missing and worst <= tol
    print(json.dumps({"pass": ok, "max_rel_error": worst, "worst_tensor": worst_name, "tolerance": tol, "missing": missing}))
    return ok


def numeric_arrays(v, prefix=""):
    """Flattens a JSON value to {key: [floats]} for every list of numbers (nested lists flattened)."""
    out = {}
    if isinstance(v, dict):
        for k, x in v.items():
            out.update(numeric_arrays(x, prefix + "." + k if prefix else k))
    elif isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        out[prefix] = [float(x) for x in v]
    elif isinstance(v, list) and v and all(isinstance(x, list) for x in v):
        flat = {}
        for i, x in enumerate(v):
            flat.update(numeric_arrays(x, "%s[%d]" % (prefix, i)))
        out.update(flat)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        out[prefix] = [float(v)]
    return out


def cmd_scores(a_path, b_path, tol):
    a, b = numeric_arrays(json.load(open(a_path))), numeric_arrays(json.load(open(b_path)))
    for timing in ("duration_s", "seconds"):
        a.pop(timing, None)
    worst, worst_key, missing = 0.0, "", sorted(set(a) - set(b))
    for k in sorted(set(a) & set(b)):
        e = rel_error(a[k], b[k])
        if e >= worst:
            worst, worst_key = e, k
    ok = not missing and worst <= tol and bool(a)
    print(json.dumps({"pass": ok, "max_rel_error": worst, "worst_key": worst_key, "tolerance": tol,
                      "keys": len(a), "missing": missing[:10]}))
    return ok


def cmd_ids(a_path, b_path, min_prefix=None):
    def ids(p):
        d = json.load(open(p))
        return d.get("ids") or d.get("greedy")
    a, b = ids(a_path), ids(b_path)
    same = 0
    while same < min(len(a), len(b)) and a[same] == b[same]:
        same += 1
    ok = a == b if min_prefix is None else same >= min_prefix
    print(json.dumps({"pass": ok, "equal": a == b, "common_prefix": same, "lengths": [len(a), len(b)],
                      "min_prefix": min_prefix}))
    return ok


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def peak_mib(speed_dir, name):
    try:
        vals = [int(x) for x in open(os.path.join(speed_dir, name + ".mem")).read().split() if x.strip().isdigit()]
    except OSError:
        return None
    return max(vals) if vals else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(v, spec="%.3g"):
    return "—" if v is None else (spec % v)


def speed_summary(speed_dir):
    """The speed rows: ours vs transformers on the same card, with the issue's targets."""
    get = lambda name, key: (load_json(os.path.join(speed_dir, name + ".json")) or {}).get(key)
    peak = float(os.environ.get("PEAK_TFLOPS", "0") or 0) * 1e12
    rows = []

    def row(what, ours, ref, unit, target, mem_ours=None, mem_ref=None, ours_over_ref=True):
        rows.append({"what": what, "ours": ours, "transformers": ref, "unit": unit,
                     "ratio": ratio(ours, ref) if ours_over_ref else None, "target": target,
                     "peak_mem_mib_ours": mem_ours, "peak_mem_mib_transformers": mem_ref})
    def shape_of(name_ours, name_ref):
        o, r = get(name_ours, "shape"), get(name_ref, "shape")
        if o:
            return o
        if r:
            return "%s batch %s × %s" % (r, get(name_ref, "batch"), get(name_ref, "seq_len"))
        return "not run"
    row("forward (%s)" % shape_of("ours-forward", "ref-forward"), get("ours-forward", "forward_tokens_per_sec"), get("ref-forward", "forward_tokens_per_sec"),
        "tokens/s", "≥ 1.0× (goal 1.2×)", peak_mib(speed_dir, "ours-forward"), peak_mib(speed_dir, "ref-forward"))
    row("importance pass / forward (with LM loss)", get("ours-forward", "pass_with_loss_over_forward"),
        get("ref-forward", "hooks_over_forward"), "× a forward", "≤ 1.10×", ours_over_ref=False)
    row("importance pass / forward (activations only)", get("ours-forward", "pass_over_forward"), None,
        "× a forward", "≤ 1.10×", ours_over_ref=False)
    kd_o, kd_r = get("ours-distill", "tokens_per_sec"), get("ref-distill", "tokens_per_sec")
    row("distillation step (%s → %s)" % (shape_of("ours-distill", "ref-distill"),
                                         os.path.basename(get("ours-distill", "student") or get("ref-distill", "student") or "?")),
        kd_o, kd_r, "tokens/s", "MFU ≥ 35 %",
        peak_mib(speed_dir, "ours-distill"), peak_mib(speed_dir, "ref-distill"))

    def mfu(name, tps):
        t, s_ = get(name, "teacher_matmul_params"), get(name, "student_matmul_params")
        if not (peak and tps and t and s_):
            return None
        return (6 * s_ + 2 * t) * tps / peak
    row("distillation MFU (6·student + 2·teacher matmul params)", mfu("ours-distill", kd_o), mfu("ref-distill", kd_r),
        "fraction of peak", "≥ 0.35", ours_over_ref=False)
    # The same two with the backend's fused attention (GOMINITRON_SPEED_FUSED=1), when run.
    if get("ours-forward-fused", "forward_tokens_per_sec") is not None:
        row("forward, fused attention", get("ours-forward-fused", "forward_tokens_per_sec"), get("ref-forward", "forward_tokens_per_sec"),
            "tokens/s", "≥ 1.0× (goal 1.2×)", peak_mib(speed_dir, "ours-forward-fused"), peak_mib(speed_dir, "ref-forward"))
        row("importance pass / forward, fused attention (with LM loss)", get("ours-forward-fused", "pass_with_loss_over_forward"),
            get("ref-forward", "hooks_over_forward"), "× a forward", "≤ 1.10×", ours_over_ref=False)
    kd_f = get("ours-distill-fused", "tokens_per_sec")
    if kd_f is not None:
        row("distillation step, fused attention", kd_f, kd_r, "tokens/s", "MFU ≥ 35 %",
            peak_mib(speed_dir, "ours-distill-fused"), peak_mib(speed_dir, "ref-distill"))
        row("distillation MFU, fused attention", mfu("ours-distill-fused", kd_f), mfu("ref-distill", kd_r),
            "fraction of peak", "≥ 0.35", ours_over_ref=False)
    gen = {}
    for g in ("gen-8b", "gen-width", "gen-depth"):
        o, r = get("ours-" + g, "requests_per_sec"), get("ref-" + g, "requests_per_sec")
        gen[g] = (o, r)
        pick = lambda key: get("ours-" + g, key) or get("ref-" + g, key) or "?"
        row("generate %s (in/out %s/%s, batch %s)" % (g, pick("input_len"), pick("output_len"), pick("batch")),
            o, r, "requests/s", "≥ 1.0×", peak_mib(speed_dir, "ours-" + g), peak_mib(speed_dir, "ref-" + g))
    for g, paper in (("gen-width", 1.8), ("gen-depth", 2.7)):
        row("%s / 8B requests/s (paper %.1f×)" % (g, paper), ratio(gen[g][0], gen["gen-8b"][0]),
            ratio(gen[g][1], gen["gen-8b"][1]), "×", "paper %.1f×" % paper, ours_over_ref=False)
    return rows


def cmd_table(results_path, speed_dir, json_out, md_out):
    rows = []
    if os.path.exists(results_path):
        for line in open(results_path):
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    rows.append({"step": "?", "status": "unreadable", "detail": line[:200]})
    counts = {}
    for r in rows:
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    speed = speed_summary(speed_dir)
    summary = {"steps": rows, "counts": counts, "speed": speed, "peak_tflops": os.environ.get("PEAK_TFLOPS"),
               "complete": any(r.get("step") == "end" for r in rows)}
    tmp = json_out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f, indent=2)
    os.replace(tmp, json_out)
    lines = ["| step | status | seconds | result |", "| --- | --- | --- | --- |"]
    for r in rows:
        if r.get("step") == "end":
            continue
        lines.append("| %s | %s | %s | %s |" % (r.get("step", "?"), r.get("status", "?"),
                                               r.get("seconds", ""), str(r.get("detail", "")).replace("|", "/")))
    lines.append("")
    lines.append("counts: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())) +
                 ("" if summary["complete"] else " — INCOMPLETE (the run stopped early)"))
    lines += ["", "| speed (bf16, random weights) | ours | transformers | ours / transformers | unit | target | peak MiB ours / transformers |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in speed:
        lines.append("| %s | %s | %s | %s | %s | %s | %s / %s |" % (
            r["what"], fmt(r["ours"]), fmt(r["transformers"]), fmt(r["ratio"], "%.2f×"), r["unit"], r["target"],
            fmt(r["peak_mem_mib_ours"], "%d"), fmt(r["peak_mem_mib_transformers"], "%d")))
    text = "\n".join(lines) + "\n"
    tmp = md_out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, md_out)
    sys.stdout.write(text)
    return True


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "forward" and len(args) == 3:
            ok = cmd_forward(args[0], args[1], float(args[2]))
        elif cmd == "scores" and len(args) == 3:
            ok = cmd_scores(args[0], args[1], float(args[2]))
        elif cmd == "ids" and len(args) in (2, 3):
            ok = cmd_ids(args[0], args[1], int(args[2]) if len(args) == 3 else None)
        elif cmd == "table" and len(args) == 4:
            ok = cmd_table(*args)
        else:
            raise SystemExit(__doc__)
    except (OSError, ValueError, KeyError) as e:
        print(json.dumps({"pass": False, "error": "%s: %s" % (type(e).__name__, e)}))
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
