#!/usr/bin/env python3
"""PyTorch CPU side of scripts/bench_cpu.sh: the same rows as
internal/benchcpu (forward, train, pass, generate) on a random-weight
float32 Llama of a config.json shape, in plain torch (no transformers: a
minimal Llama — RMSNorm, RoPE, grouped-query attention, SwiGLU — so Debian's
python3-torch 1.13 is enough). Prints one JSON line with the best of the
timed rounds after one warm-up; exits 3 with one line when torch is missing.

    bench_cpu_ref.py CONFIG ROW BATCH SEQ NEW ROUNDS THREADS
"""
import json
import math
import os
import sys
import time


def need_torch():
    try:
        import torch  # noqa: F401
    except ImportError as e:
        print("bench_cpu_ref: no torch here (%s): PyTorch side skipped" % e)
        sys.exit(3)


def build(cfg):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    h, ffn, nh, nkv = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or h // nh
    eps, theta, vocab = cfg.get("rms_norm_eps", 1e-5), cfg.get("rope_theta", 10000.0), cfg["vocab_size"]

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(h))

        def forward(self, x):
            return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))

    def rope(x, pos):  # x [b, heads, s, hd], pos [s]
        ang = pos[:, None].float() * inv_freq[None, :]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_layernorm, self.post_attention_layernorm = RMSNorm(), RMSNorm()
            self.q_proj, self.k_proj = nn.Linear(h, nh * hd, bias=False), nn.Linear(h, nkv * hd, bias=False)
            self.v_proj, self.o_proj = nn.Linear(h, nkv * hd, bias=False), nn.Linear(nh * hd, h, bias=False)
            self.gate_proj, self.up_proj = nn.Linear(h, ffn, bias=False), nn.Linear(h, ffn, bias=False)
            self.down_proj = nn.Linear(ffn, h, bias=False)

        def forward(self, x, pos, cache=None):
            b, s, _ = x.shape
            a = self.input_layernorm(x)
            q = rope(self.q_proj(a).view(b, s, nh, hd).transpose(1, 2), pos)
            k = rope(self.k_proj(a).view(b, s, nkv, hd).transpose(1, 2), pos)
            v = self.v_proj(a).view(b, s, nkv, hd).transpose(1, 2)
            if cache is not None:
                if "k" in cache:
                    k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
                cache["k"], cache["v"] = k, v
            k, v = k.repeat_interleave(nh // nkv, 1), v.repeat_interleave(nh // nkv, 1)
            scores = q @ k.transpose(-1, -2) / math.sqrt(hd)  # [b, nh, s, t]
            t = k.shape[2]
            mask = torch.ones(s, t, dtype=torch.bool).tril(t - s)
            att = scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v
            x = x + self.o_proj(att.transpose(1, 2).reshape(b, s, nh * hd))
            m = self.post_attention_layernorm(x)
            return x + self.down_proj(F.silu(self.gate_proj(m)) * self.up_proj(m))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(vocab, h)
            self.layers = nn.ModuleList([Layer() for _ in range(cfg["num_hidden_layers"])])
            self.norm = RMSNorm()
            self.lm_head = nn.Linear(h, vocab, bias=False)
            if cfg.get("tie_word_embeddings"):
                self.lm_head.weight = self.embed_tokens.weight

        def hidden(self, ids, start=0, caches=None):
            x = self.embed_tokens(ids)
            pos = torch.arange(start, start + ids.shape[1])
            for i, layer in enumerate(self.layers):
                x = layer(x, pos, None if caches is None else caches[i])
            return self.norm(x)

        def forward(self, ids, start=0, caches=None):
            return self.lm_head(self.hidden(ids, start, caches))

    model = Llama()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.normal_(0, cfg.get("initializer_range", 0.02))
    return model


def importance_hooks(model, num_heads):
    """Activation statistics as the importance pass computes them: mean |x|
    per FFN neuron (down_proj input), per head (o_proj input, head norms), per
    hidden channel (both norm outputs), and 1 − cos(layer in, layer out)."""
    import torch
    stats, handles = {}, []
    for i, layer in enumerate(model.layers):
        def pre(name, heads=None):
            def hook(_m, args):
                x = args[0]
                if heads:
                    x = x.view(*x.shape[:-1], heads, -1).norm(dim=-1)
                stats[name] = stats.get(name, 0) + x.abs().mean(dim=(0, 1))
            return hook

        def post(name):
            def hook(_m, _args, out):
                stats[name] = stats.get(name, 0) + out.abs().mean(dim=(0, 1))
            return hook

        def block(name):
            def hook(_m, args, out):
                cos = torch.nn.functional.cosine_similarity(args[0], out, dim=-1).mean()
                stats[name] = stats.get(name, 0) + (1 - cos)
            return hook
        handles.append(layer.down_proj.register_forward_pre_hook(pre("ffn.%d" % i)))
        handles.append(layer.o_proj.register_forward_pre_hook(pre("heads.%d" % i, num_heads)))
        handles.append(layer.input_layernorm.register_forward_hook(post("hidden.attn.%d" % i)))
        handles.append(layer.post_attention_layernorm.register_forward_hook(post("hidden.mlp.%d" % i)))
        handles.append(layer.register_forward_hook(block("bi.%d" % i)))
    return stats, handles


def main(argv):
    if len(argv) != 8:
        raise SystemExit(__doc__)
    need_torch()
    import torch
    import torch.nn.functional as F
    config, row, batch, seq, new, rounds, threads = argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]), int(argv[7])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with open(config) as f:
        cfg = json.load(f)
    model = build(cfg)
    ids = torch.randint(0, cfg["vocab_size"], (batch, seq))
    tokens = batch * seq
    if row == "forward":
        model.eval()

        def step():
            with torch.inference_mode():
                model(ids)
    elif row == "train":
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)

        def step():
            logits = model(ids)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, cfg["vocab_size"]), ids[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            loss.item()
    elif row == "pass":
        model.eval()
        importance_hooks(model, cfg["num_attention_heads"])

        def step():
            with torch.inference_mode():
                model.hidden(ids)  # no lm_head: the activation scores need none
    elif row == "generate":
        model.eval()
        tokens = batch * new

        def step():  # greedy, KV cache, exactly `new` tokens per row
            caches = [{} for _ in model.layers]
            with torch.inference_mode():
                nxt = model(ids, 0, caches)[:, -1].argmax(-1, keepdim=True)
                for i in range(1, new):
                    nxt = model(nxt, seq + i - 1, caches)[:, -1].argmax(-1, keepdim=True)
    else:
        raise SystemExit("bench_cpu_ref: row %r: want forward, train, pass or generate" % row)
    step()  # warm-up
    best = best_cpu = None  # wall and process CPU seconds (all threads) of the best rounds
    for _ in range(rounds):
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        secs, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        best = secs if best is None else min(best, secs)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    print(json.dumps({"impl": "torch", "row": row, "shape": os.path.basename(config), "batch": batch, "seq": seq,
                      "seconds": best, "tokens_per_sec": tokens / best, "cpu_seconds": best_cpu,
                      "threads": threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main(sys.argv)
