#!/usr/bin/env python3
"""Check that Hugging Face transformers loads a gominitron-pruned export and
computes the same logits as gominitron's own forward pass.

Needs: python3 with torch, transformers and numpy (no GPU required; a GPU is
used when present). Nothing else from gominitron.

Usage:
    # 1. prune (any machine):
    gominitron prune --model testdata/hf/dev-llama-gqa \
        --importance testdata/hf/dev-llama-gqa/reference_importance.json \
        --out /tmp/pruned --ffn 96 --heads-per-group 1 --hidden 48
    # 2. our logits for some ids, written as safetensors with `input_ids`
    #    [batch, seq] int32 and `logits` [batch, seq, vocab] float32
    #    (gominitron forward's --out, or any file with those two tensors;
    #    a JSON file {"input_ids": [[...]], "logits": [[[...]]]} also works):
    gominitron forward --model /tmp/pruned \
        --input testdata/hf/dev-llama-gqa/reference.safetensors --out /tmp/ours.safetensors
    # 3. on a machine with transformers:
    python3 scripts/check_pruned_hf.py --model /tmp/pruned --ours /tmp/ours.safetensors

Exit status 0 when max|hf - ours| <= tol * max|ours| (default tol 1e-4) and
the argmax agrees at every position; 1 otherwise. Prints one JSON line.
"""
import argparse
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    """Minimal safetensors reader (F32, F16, BF16, I32, I64) into numpy."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = body[b:e]
        dt = info["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dt == "I32":
            a = np.frombuffer(raw, dtype="<i4")
        elif dt == "I64":
            a = np.frombuffer(raw, dtype="<i8")
        else:
            raise SystemExit(f"{path}: tensor {name}: dtype {dt} not handled")
        out[name] = a.reshape(info["shape"])
    return out


def read_tensors(path):
    if path.endswith(".json"):
        with open(path) as f:
            d = json.load(f)
        return {k: np.asarray(v) for k, v in d.items() if isinstance(v, list)}
    if path.endswith(".npz"):
        return dict(np.load(path))
    return read_safetensors(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="pruned Hugging Face folder (gominitron prune --out)")
    ap.add_argument("--ours", required=True, help="our logits: safetensors/npz/json with input_ids and logits")
    ap.add_argument("--ids", help="file with input_ids, if --ours has none (e.g. a fixture's reference.safetensors)")
    ap.add_argument("--logits-key", default="logits")
    ap.add_argument("--tol", type=float, default=1e-4, help="relative tolerance on max |difference| / max |ours|")
    args = ap.parse_args()

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    ours = read_tensors(args.ours)
    if args.logits_key not in ours:
        raise SystemExit(f"{args.ours}: no tensor {args.logits_key!r} (has {sorted(ours)})")
    ids = ours.get("input_ids")
    if ids is None:
        if not args.ids:
            raise SystemExit(f"{args.ours} has no input_ids: pass --ids FILE")
        ids = read_tensors(args.ids)["input_ids"]
    our_logits = np.asarray(ours[args.logits_key], dtype=np.float32)

    cfg = AutoConfig.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    with torch.no_grad():
        hf = model(torch.as_tensor(np.asarray(ids, dtype=np.int64), device=device)).logits.float().cpu().numpy()

    if hf.shape != our_logits.shape:
        print(json.dumps({"ok": False, "error": f"shape: hf {hf.shape} vs ours {our_logits.shape}"}))
        return 1
    diff = float(np.max(np.abs(hf - our_logits)))
    scale = float(np.max(np.abs(our_logits)))
    argmax_agree = float(np.mean(hf.argmax(-1) == our_logits.argmax(-1)))
    ok = diff <= args.tol * scale and argmax_agree == 1.0
    print(json.dumps({
        "ok": ok, "model": args.model, "architectures": cfg.architectures,
        "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
        "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": getattr(cfg, "head_dim", None), "num_hidden_layers": cfg.num_hidden_layers,
        "params": sum(p.numel() for p in model.parameters()),
        "max_abs_diff": diff, "max_abs_ours": scale, "rel_diff": diff / scale if scale else None,
        "argmax_agreement": argmax_agree, "tol": args.tol, "device": device,
    }))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
