#!/usr/bin/env python3
"""Tokenizer encode throughput, mdrl against Hugging Face `tokenizers`, same file, same run
(issue 4 "Benchmark"). Runs the C++ bench (tests/bench/bench_tokenizer.cpp), then `tokenizers` on
one thread (RAYON_NUM_THREADS=1) on the same texts, checks both produce the same ids (FNV-1a over
all ids), and prints one JSON object with MB/s of both and their ratio. Skips cleanly (exit 0,
"skipped" in the JSON) without the data file or the `tokenizers` package.

    tools/bench_tokenizer.py --bench build/release/tests/bench_tokenizer \
        [--tokenizer tests/data/tokenizer/tokenizer.json] [--data ../shared/data/gsm8k/train.jsonl]
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before tokenizers starts its thread pool
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", required=True, help="the bench_tokenizer executable")
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "tests", "data", "tokenizer", "tokenizer.json"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "gsm8k", "train.jsonl"))
    ap.add_argument("--threads", type=int, default=2, help="threads for mdrl's batch figure")
    args = ap.parse_args()
    result = {"bench": "tokenizer_vs_hf", "file": args.data, "tokenizer": args.tokenizer}
    if not os.path.exists(args.data):
        result["skipped"] = "data file not found"
        print(json.dumps(result))
        return 0
    try:
        from tokenizers import Tokenizer
        import tokenizers
    except ImportError:
        result["skipped"] = "the tokenizers package is not installed (tools/setup.sh installs it)"
        print(json.dumps(result))
        return 0

    env = dict(os.environ, MDRL_SOURCE_DIR=ROOT)
    ours = json.loads(subprocess.run([args.bench, args.tokenizer, args.data, str(args.threads)], env=env,
                                     check=True, capture_output=True, text=True).stdout)
    texts = [json.loads(line)["question"] for line in open(args.data, encoding="utf-8") if line.strip()]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6

    path = args.tokenizer if os.path.isfile(args.tokenizer) else os.path.join(args.tokenizer, "tokenizer.json")
    tok = Tokenizer.from_file(path)
    t0 = time.perf_counter()
    encs = [tok.encode(t, add_special_tokens=False) for t in texts]
    hf_cold = time.perf_counter() - t0
    fnv, n = 1469598103934665603, 0
    for e in encs:
        for i in e.ids:
            fnv = ((fnv ^ i) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
            n += 1
    hf_warm = min(timed(lambda: [tok.encode(t, add_special_tokens=False) for t in texts]) for _ in range(3))
    hf_batch = min(timed(lambda: tok.encode_batch(texts, add_special_tokens=False)) for _ in range(3))

    result.update({
        "tokenizers_version": tokenizers.__version__,
        "texts": len(texts), "mb": round(mb, 3), "tokens": n,
        "ids_equal": str(fnv) == ours["ids_fnv1a"] and n == ours["tokens"],
        "mdrl": {k: ours[k] for k in ("cold_mb_s", "warm_mb_s", "batch_mb_s", "batch_threads")},
        "hf_one_thread": {"cold_mb_s": mb / hf_cold, "warm_mb_s": mb / hf_warm, "batch_mb_s": mb / hf_batch},
    })
    # The like-for-like figure: one thread, warm cache, each library's fastest single-thread path.
    result["ratio_warm"] = ours["warm_mb_s"] / max(mb / hf_warm, mb / hf_batch)
    result["ratio_cold"] = ours["cold_mb_s"] / (mb / hf_cold)
    print(json.dumps(result))
    return 0 if result["ids_equal"] else 1


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
