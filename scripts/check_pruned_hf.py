#!/usr/bin/env python3
"""Check that Hugging Face transformers loads a gominitron-pruned export and
computes the same logits as gominitron's own forward pass.

Needs: python3 with numpy; for the real check also torch and transformers (a
GPU is used when present). Nothing else from gominitron.

Usage:
    # 1. prune (any machine):
    gominitron prune --model testdata/hf/dev-llama-gqa \
        --importance testdata/hf/dev-llama-gqa/reference_importance.json \
        --out /tmp/pruned --hidden 48 --ffn 96 --heads-per-group 1 --layers 1
    # 2. our logits (float32 `logits` [batch, seq, vocab] in a safetensors file):
    gominitron forward --model /tmp/pruned --logits-only \
        --input testdata/hf/dev-llama-gqa/reference.safetensors --out /tmp/ours.safetensors
    # 3. on a machine with transformers:
    python3 scripts/check_pruned_hf.py --model /tmp/pruned --ours /tmp/ours.safetensors \
        --ids testdata/hf/dev-llama-gqa/reference.safetensors
    # or, without torch/transformers, against the built-in numpy reference
    # forward (transformers' Llama/Qwen2 math, reading only config.json and the
    # safetensors; it reproduces the fixtures' transformers logits to ~1e-6):
    python3 scripts/check_pruned_hf.py --numpy --model /tmp/pruned --ours /tmp/ours.safetensors \
        --ids testdata/hf/dev-llama-gqa/reference.safetensors

--ours may also be a .npz or a JSON file {"input_ids": [[...]], "logits": [[[...]]]};
input_ids are read from --ours when it has them, else from --ids.

Exit status 0 when max|ref - ours| <= tol * max|ours| (default tol 1e-4) and
the argmax agrees at every position; 1 otherwise. Prints one JSON line.
"""
import argparse
import json
import sys

import numpy as np

from gpu_check import safetensors_raw  # the header and byte ranges, read once (standard library)


# numpy dtype of each safetensors dtype read here (BF16: the top 16 bits of a float32).
NUMPY_DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "<u2", "I32": "<i4", "I64": "<i8"}


def read_safetensors(path):
    """Minimal safetensors reader (F32, F16, BF16, I32, I64) into numpy."""
    out = {}
    for name, (dt, dims, raw) in safetensors_raw(path).items():
        if dt not in NUMPY_DTYPES:
            raise SystemExit(f"{path}: tensor {name}: dtype {dt} not handled")
        a = np.frombuffer(raw, dtype=NUMPY_DTYPES[dt])
        if dt == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        elif dt == "F16":
            a = a.astype(np.float32)
        out[name] = a.reshape(dims)
    return out


def read_tensors(path):
    if path.endswith(".json"):
        with open(path) as f:
            d = json.load(f)
        return {k: np.asarray(v) for k, v in d.items() if isinstance(v, list)}
    if path.endswith(".npz"):
        return dict(np.load(path))
    return read_safetensors(path)


def load_config(model_dir):
    with open(f"{model_dir}/config.json") as f:
        return json.load(f)


def load_weights(model_dir):
    import glob
    import os

    index = os.path.join(model_dir, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    w = {}
    for f in files:
        w.update(read_safetensors(os.path.join(model_dir, f)))
    return {k: v.astype(np.float64) for k, v in w.items()}


def rope_inv_freq(cfg, head_dim):
    """transformers' default and llama3 RoPE frequencies (both config forms)."""
    params = cfg.get("rope_parameters") or {}
    scaling = cfg.get("rope_scaling") or params
    theta = cfg.get("rope_theta") or params.get("rope_theta") or 10000.0
    inv = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    rtype = scaling.get("rope_type", scaling.get("type", "default")) if scaling else "default"
    if rtype == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wl = 2 * np.pi / inv
        inv_l = np.where(wl > low_wl, inv / factor, inv)
        smooth = (old / wl - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wl < high_wl) & ~(wl > low_wl)
        inv = np.where(medium, smoothed, inv_l)
    elif rtype not in ("default", None):
        raise SystemExit(f"rope_type {rtype} not handled by the numpy reference")
    return inv


def numpy_forward(model_dir, ids):
    """A plain numpy Llama/Qwen2 forward following transformers' modeling code,
    reading only config.json and the safetensors: an independent check of an
    export when transformers is not installed."""
    cfg, w = load_config(model_dir), load_weights(model_dir)
    hidden, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = cfg.get("head_dim") or hidden // nh
    eps = cfg["rms_norm_eps"]

    def norm(x, name):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w[name]

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    ids = np.asarray(ids, dtype=np.int64)
    b, s = ids.shape
    inv = rope_inv_freq(cfg, d)
    freqs = np.arange(s, dtype=np.float64)[:, None] * inv[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)  # [s, d]

    def rope(x):  # [b, heads, s, d]
        x1, x2 = x[..., : d // 2], x[..., d // 2 :]
        return x * cos + np.concatenate([-x2, x1], axis=-1) * sin

    causal = np.triu(np.full((s, s), -np.inf), 1)
    x = w["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = norm(x, p + "input_layernorm.weight")
        q = lin(h, p + "self_attn.q_proj").reshape(b, s, nh, d).transpose(0, 2, 1, 3)
        k = lin(h, p + "self_attn.k_proj").reshape(b, s, nkv, d).transpose(0, 2, 1, 3)
        v = lin(h, p + "self_attn.v_proj").reshape(b, s, nkv, d).transpose(0, 2, 1, 3)
        q, k = rope(q), rope(k)
        k, v = np.repeat(k, nh // nkv, axis=1), np.repeat(v, nh // nkv, axis=1)
        a = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + causal
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        o = (a @ v).transpose(0, 2, 1, 3).reshape(b, s, nh * d)
        x = x + lin(o, p + "self_attn.o_proj")
        h = norm(x, p + "post_attention_layernorm.weight")
        g = lin(h, p + "mlp.gate_proj")
        x = x + lin(g / (1 + np.exp(-g)) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = norm(x, "model.norm.weight")
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T, cfg


def compare(ref, ours, tol):
    diff = float(np.max(np.abs(ref - ours)))
    scale = float(np.max(np.abs(ours)))
    agree = float(np.mean(ref.argmax(-1) == ours.argmax(-1)))
    return diff, scale, agree, (diff <= tol * scale and agree == 1.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="pruned Hugging Face folder (gominitron prune --out)")
    ap.add_argument("--ours", required=True, help="our logits: safetensors/npz/json with input_ids and logits")
    ap.add_argument("--ids", help="file with input_ids, if --ours has none (e.g. a fixture's reference.safetensors)")
    ap.add_argument("--logits-key", default="logits")
    ap.add_argument("--tol", type=float, default=1e-4, help="relative tolerance on max |difference| / max |ours|")
    ap.add_argument("--numpy", action="store_true",
                    help="compare against the built-in numpy forward instead of transformers (no torch needed)")
    args = ap.parse_args()

    ours = read_tensors(args.ours)
    if args.logits_key not in ours:
        raise SystemExit(f"{args.ours}: no tensor {args.logits_key!r} (has {sorted(ours)})")
    ids = ours.get("input_ids")
    if ids is None:
        if not args.ids:
            raise SystemExit(f"{args.ours} has no input_ids: pass --ids FILE")
        ids = read_tensors(args.ids)["input_ids"]
    our_logits = np.asarray(ours[args.logits_key], dtype=np.float32)

    if args.numpy:
        ref, cfg = numpy_forward(args.model, ids)
        if ref.shape != our_logits.shape:
            print(json.dumps({"ok": False, "error": f"shape: numpy {ref.shape} vs ours {our_logits.shape}"}))
            return 1
        diff, scale, agree, ok = compare(ref, our_logits, args.tol)
        print(json.dumps({"ok": ok, "model": args.model, "reference": "numpy", "hidden_size": cfg["hidden_size"],
                          "intermediate_size": cfg["intermediate_size"], "num_attention_heads": cfg["num_attention_heads"],
                          "num_key_value_heads": cfg["num_key_value_heads"], "head_dim": cfg.get("head_dim"),
                          "num_hidden_layers": cfg["num_hidden_layers"], "max_abs_diff": diff, "max_abs_ours": scale,
                          "rel_diff": diff / scale if scale else None, "argmax_agreement": agree, "tol": args.tol}))
        return 0 if ok else 1

    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.from_pretrained(args.model)
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"  # renamed in 4.56
    model, info = AutoModelForCausalLM.from_pretrained(
        args.model, attn_implementation="eager", output_loading_info=True, **{dtype_kw: torch.float32})
    # A faithful export loads every weight: nothing missing, unexpected or resized.
    problems = {k: [str(x) for x in v] for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if problems:
        print(json.dumps({"ok": False, "model": args.model, "loading_problems": problems}))
        return 1
    model.eval()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    with torch.no_grad():
        hf = model(torch.as_tensor(np.asarray(ids, dtype=np.int64), device=device)).logits.float().cpu().numpy()

    if hf.shape != our_logits.shape:
        print(json.dumps({"ok": False, "error": f"shape: hf {hf.shape} vs ours {our_logits.shape}"}))
        return 1
    diff, scale, argmax_agree, ok = compare(hf, our_logits, args.tol)
    print(json.dumps({
        "ok": ok, "model": args.model, "architectures": cfg.architectures,
        "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
        "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": getattr(cfg, "head_dim", None), "num_hidden_layers": cfg.num_hidden_layers,
        "params": sum(p.numel() for p in model.parameters()),
        "max_abs_diff": diff, "max_abs_ours": scale, "rel_diff": diff / scale if scale else None,
        "argmax_agreement": argmax_agree, "tol": args.tol, "device": device,
        "transformers": transformers.__version__,
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
