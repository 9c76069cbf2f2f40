#!/usr/bin/env python3
"""Tests of scripts/gpu_check.py's comparisons (standard library only):
python3 scripts/gpu_check_test.py — run by scripts/gpu_check.sh as its first step."""
import io
import json
import os
import struct
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_check  # noqa: E402


def write_safetensors(path, tensors):
    """tensors: name -> (dtype "F32"|"BF16"|"I32", dims, values)."""
    header, blobs, offset = {}, [], 0
    for name, (dt, dims, vals) in tensors.items():
        if dt == "F32":
            blob = struct.pack("<%df" % len(vals), *vals)
        elif dt == "BF16":  # truncate float32 to its top 16 bits
            blob = struct.pack("<%dH" % len(vals), *[struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in vals])
        else:
            blob = struct.pack("<%di" % len(vals), *vals)
        header[name] = {"dtype": dt, "shape": dims, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def quiet(fn, *args):
    with redirect_stdout(io.StringIO()) as out:
        ok = fn(*args)
    return ok, json.loads(out.getvalue())


class Compare(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_forward_bound(self):
        ref = [1.0, -2.0, 4.0, 0.5]
        write_safetensors(self.path("ref"), {"logits": ("F32", [2, 2], ref), "input_ids": ("I32", [2], [1, 2])})
        # max|ref| = 4: an error of 0.002 is 5e-4 relative, 0.02 is 5e-3.
        cases = [("exact", ref, 1e-3, True), ("within", [1.002, -2.0, 4.0, 0.5], 1e-3, True),
                 ("outside", [1.02, -2.0, 4.0, 0.5], 1e-3, False), ("nan", [float("nan"), -2.0, 4.0, 0.5], 1.0, False)]
        for name, got, tol, want in cases:
            write_safetensors(self.path(name), {"logits": ("F32", [2, 2], got)})
            ok, res = quiet(gpu_check.cmd_forward, self.path("ref"), self.path(name), tol)
            self.assertEqual(ok, want, "%s: %s" % (name, res))

    def test_forward_missing_or_reshaped_tensor_fails(self):
        write_safetensors(self.path("ref"), {"logits": ("F32", [2], [1, 2]), "hidden_states.0": ("F32", [2], [1, 2])})
        write_safetensors(self.path("a"), {"logits": ("F32", [2], [1, 2])})
        write_safetensors(self.path("b"), {"logits": ("F32", [1, 2], [1, 2]), "hidden_states.0": ("F32", [2], [1, 2])})
        for got in ("a", "b"):
            ok, res = quiet(gpu_check.cmd_forward, self.path("ref"), self.path(got), 1e-3)
            self.assertFalse(ok, res)
            self.assertTrue(res["missing"], res)

    def test_bf16_reads_as_float(self):
        write_safetensors(self.path("ref"), {"logits": ("F32", [3], [1.0, -0.5, 3.0])})
        write_safetensors(self.path("bf"), {"logits": ("BF16", [3], [1.0, -0.5, 3.0])})  # exact in bf16
        ok, res = quiet(gpu_check.cmd_forward, self.path("ref"), self.path("bf"), 0.0)
        self.assertTrue(ok, res)

    def test_scores(self):
        ref = {"ffn": [[1.0, 2.0], [3.0, 4.0]], "lm_loss": 2.5, "duration_s": 1.0}
        close = {"ffn": [[1.0, 2.0], [3.0, 4.001]], "lm_loss": 2.5, "duration_s": 99.0, "extra": [1]}
        far = {"ffn": [[1.0, 2.0], [3.0, 4.5]], "lm_loss": 2.5}
        missing = {"ffn": [[1.0, 2.0], [3.0, 4.0]]}
        for name, got, want in [("close", close, True), ("far", far, False), ("missing", missing, False)]:
            for p, v in (("ref.json", ref), (name + ".json", got)):
                json.dump(v, open(self.path(p), "w"))
            ok, res = quiet(gpu_check.cmd_scores, self.path("ref.json"), self.path(name + ".json"), 1e-3)
            self.assertEqual(ok, want, "%s: %s" % (name, res))

    def test_ids(self):
        json.dump({"prompt": [1, 2], "greedy": [1, 2, 3, 4]}, open(self.path("ref.json"), "w"))
        json.dump({"ids": [1, 2, 3, 4]}, open(self.path("same.json"), "w"))
        json.dump({"ids": [1, 2, 3, 9]}, open(self.path("diff.json"), "w"))
        self.assertTrue(quiet(gpu_check.cmd_ids, self.path("ref.json"), self.path("same.json"))[0])
        ok, res = quiet(gpu_check.cmd_ids, self.path("ref.json"), self.path("diff.json"))
        self.assertFalse(ok)
        self.assertEqual(res["common_prefix"], 3)
        self.assertTrue(quiet(gpu_check.cmd_ids, self.path("ref.json"), self.path("diff.json"), 3)[0])


if __name__ == "__main__":
    unittest.main()
