#!/usr/bin/env python3
"""PyTorch/transformers side of scripts/gpu_check.sh: the same random-weight
model shapes, timed on the same card, bf16, sdpa attention. No download:
models are built from a config.json with random weights.

    gpu_ref.py forward  CONFIG BATCH SEQ ROUNDS OUT.json   # forward tokens/s; with ModelOpt-style importance hooks: ratio
    gpu_ref.py distill  TEACHER STUDENT BATCH SEQ CHUNK ROUNDS OUT.json   # KD step: forward KL over chunked logits, fused AdamW
    gpu_ref.py generate CONFIG BATCH ISL OSL ROUNDS OUT.json  # generate(): requests/s

Exits 3 with one line when torch/transformers/CUDA are missing (the caller
then skips the reference side). Writes OUT.json atomically.
"""
import json
import os
import sys
import time


def need_torch():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        print("gpu_ref: no torch/transformers here (%s): reference side skipped" % e)
        sys.exit(3)
    import torch
    if not torch.cuda.is_available():
        print("gpu_ref: torch has no CUDA device here: reference side skipped")
        sys.exit(3)


def build(config_path, dtype):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    with open(config_path) as f:
        raw = json.load(f)
    cfg = AutoConfig.for_model(**raw)
    cfg._attn_implementation = "sdpa"
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device("cuda"):
            model = AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa")
    finally:
        torch.set_default_dtype(old)
    return model.to(dtype)


def timed(fn, rounds):
    """Median seconds of fn over rounds after one warm-up, synchronised."""
    import torch
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def device_info():
    import torch
    import transformers
    return {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "transformers": transformers.__version__}


def write(path, result):
    import torch
    result.update(device_info())
    result["peak_allocated_bytes"] = torch.cuda.max_memory_allocated()
    result["peak_reserved_bytes"] = torch.cuda.max_memory_reserved()
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, path)
    print(json.dumps(result))


class ImportanceHooks:
    """ModelOpt-style activation statistics on every layer: mean |x| per MLP
    neuron (down_proj input), per attention head (o_proj input), per hidden
    channel (both layernorm outputs), and the Block Influence cosine between
    each layer's input and output — accumulated on the device."""

    def __init__(self, model):
        import torch
        self.handles, self.stats = [], {}
        cfg = model.config
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        for i, layer in enumerate(model.model.layers):
            def pre(name, heads=None):
                def hook(_module, args):
                    x = args[0].float()
                    if heads:
                        x = x.view(*x.shape[:-1], heads, head_dim).norm(dim=-1)
                    s = x.abs().mean(dim=(0, 1))
                    self.stats[name] = self.stats.get(name, 0) + s
                return hook

            def post(name):
                def hook(_module, _args, out):
                    s = out.float().abs().mean(dim=(0, 1))
                    self.stats[name] = self.stats.get(name, 0) + s
                return hook

            def block(name):
                def hook(_module, args, kwargs, out):
                    h_in = args[0] if args else kwargs.get("hidden_states")
                    h_out = out[0] if isinstance(out, tuple) else out
                    if h_in is None:
                        return
                    cos = torch.nn.functional.cosine_similarity(h_in.float(), h_out.float(), dim=-1).mean()
                    self.stats[name] = self.stats.get(name, 0) + (1 - cos)
                return hook
            self.handles.append(layer.mlp.down_proj.register_forward_pre_hook(pre("ffn.%d" % i)))
            self.handles.append(layer.self_attn.o_proj.register_forward_pre_hook(pre("heads.%d" % i, cfg.num_attention_heads)))
            self.handles.append(layer.input_layernorm.register_forward_hook(post("hidden.attn.%d" % i)))
            self.handles.append(layer.post_attention_layernorm.register_forward_hook(post("hidden.mlp.%d" % i)))
            self.handles.append(layer.register_forward_hook(block("bi.%d" % i), with_kwargs=True))

    def remove(self):
        for h in self.handles:
            h.remove()


def cmd_forward(config, batch, seq, rounds, out):
    import torch
    model = build(config, torch.bfloat16).eval()
    ids = torch.randint(0, model.config.vocab_size, (batch, seq), device="cuda")
    torch.cuda.reset_peak_memory_stats()

    def fwd():
        with torch.inference_mode():
            return model(input_ids=ids, use_cache=False).logits
    plain = timed(fwd, rounds)
    hooks = ImportanceHooks(model)
    with_hooks = timed(fwd, rounds)
    hooks.remove()
    write(out, {"shape": os.path.basename(config), "batch": batch, "seq_len": seq,
                "forward_seconds": plain, "forward_tokens_per_sec": batch * seq / plain,
                "hooks_seconds": with_hooks, "hooks_over_forward": with_hooks / plain})


def cmd_distill(teacher_cfg, student_cfg, batch, seq, chunk, rounds, out):
    import torch
    import torch.nn.functional as F
    teacher = build(teacher_cfg, torch.bfloat16).eval()
    student = build(student_cfg, torch.float32).train()  # float32 master weights, bf16 autocast
    opt = torch.optim.AdamW(student.parameters(), lr=1e-5, fused=True)
    ids = torch.randint(0, teacher.config.vocab_size, (batch, seq), device="cuda")
    torch.cuda.reset_peak_memory_stats()

    def step():
        with torch.no_grad():
            t_h = teacher.model(input_ids=ids, use_cache=False).last_hidden_state
        with torch.autocast("cuda", dtype=torch.bfloat16):
            s_h = student.model(input_ids=ids, use_cache=False).last_hidden_state
            loss = 0
            for c in range(0, seq, chunk):
                with torch.no_grad():
                    t_logp = F.log_softmax(teacher.lm_head(t_h[:, c:c + chunk]).float(), dim=-1)
                s_logp = F.log_softmax(student.lm_head(s_h[:, c:c + chunk]).float(), dim=-1)
                loss = loss + (t_logp.exp() * (t_logp - s_logp)).sum()
            loss = loss / (batch * seq)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    secs = timed(step, rounds)

    def matmul_params(m):
        c = m.config
        n = sum(p.numel() for name, p in m.named_parameters() if "embed_tokens" not in name and "lm_head" not in name)
        return n + c.vocab_size * c.hidden_size
    write(out, {"teacher": os.path.basename(teacher_cfg), "student": os.path.basename(student_cfg), "batch": batch,
                "seq_len": seq, "chunk": chunk, "step_seconds": secs, "tokens_per_sec": batch * seq / secs,
                "teacher_matmul_params": matmul_params(teacher), "student_matmul_params": matmul_params(student)})


def cmd_generate(config, batch, isl, osl, rounds, out):
    import torch
    model = build(config, torch.bfloat16).eval()
    ids = torch.randint(0, model.config.vocab_size, (batch, isl), device="cuda")
    mask = torch.ones_like(ids)
    torch.cuda.reset_peak_memory_stats()

    # No EOS: every row generates exactly osl tokens, as ours does.
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    lengths = []

    def gen():
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=osl, do_sample=False)
        lengths.append(out.shape[1])
        return out
    secs = timed(gen, rounds)
    if lengths[-1] != isl + osl:
        raise SystemExit("gpu_ref: generate returned %d tokens per row, want %d" % (lengths[-1], isl + osl))
    write(out, {"shape": os.path.basename(config), "batch": batch, "input_len": isl, "output_len": osl,
                "seconds": secs, "requests_per_sec": batch / secs, "decode_tokens_per_sec": batch * osl / secs})


def main(argv):
    if len(argv) < 2 or argv[1] not in ("forward", "distill", "generate"):
        raise SystemExit(__doc__)
    need_torch()
    cmd, a = argv[1], argv[2:]
    if cmd == "forward" and len(a) == 5:
        cmd_forward(a[0], int(a[1]), int(a[2]), int(a[3]), a[4])
    elif cmd == "distill" and len(a) == 7:
        cmd_distill(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6])
    elif cmd == "generate" and len(a) == 6:
        cmd_generate(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), a[5])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
