#!/usr/bin/env python3
"""The reference's decode loop in PyTorch, for bench_decode_reference (issue 19): written from
spec algorithms.md §1.1-§1.7 as the reference computes it, on a LLaDA model written from spec
model.md §2 (f32 RMSNorm statistics, f32 rotate-half RoPE, SDPA without a mask, LM head on every
position). Per step: one forward of the whole sequence, Gumbel noise over the full vocabulary in
float64 (exp(l) / (-ln u)^T, d1/LLaDA `add_gumbel_noise`), softmax over the full vocabulary in the
logits' dtype, gather, window cut, and a python loop over rows for torch.topk.

    decode_reference.py --model DIR --job JOB.json

DIR holds config.json + model.safetensors (as `export_hf_checkpoint` writes them); JOB.json:
{"prompts": [[ids]], "decoding": "semi_ar" | "eoser_ass", "gen_length", "steps", "block_length",
 "temperature", "gamma_min", "gamma_max", "threads", "steps_timed", "seed"}. Prints one JSON object:
forwards, seconds_total, seconds_model (inside model(x)), the completions.
"""
import argparse
import json
import math
import struct
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path: Path) -> dict:
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + a:base + b]), dtype=DTYPES[meta["dtype"]])
        out[name] = t.view(meta["shape"]).float()
    return out


def load_weights(folder: Path) -> dict:
    index = folder / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else ["model.safetensors"]
    w = {}
    for f in files:
        w.update(read_safetensors(folder / f))
    return {k.removeprefix("model.transformer."): v for k, v in w.items()}


class Llada:
    """spec model.md §2: pre-norm blocks, bidirectional MHA with rotate-half RoPE, SwiGLU, untied head."""

    def __init__(self, folder: Path):
        c = json.loads((folder / "config.json").read_text())
        self.w = load_weights(folder)
        self.L, self.H, self.d = c["n_layers"], c["n_heads"], c["d_model"]
        self.h, self.eps, self.theta = self.d // self.H, c["rms_norm_eps"], c["rope_theta"]
        self.vocab = c["vocab_size"]

    def rms(self, x, w):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * w

    def rope(self, T):  # rebuilt per forward, as the reference's RotaryEmbedding cache does on first use
        inv = 1.0 / (self.theta ** (torch.arange(0, self.h, 2, dtype=torch.float32) / self.h))
        a = torch.outer(torch.arange(T, dtype=torch.float32), inv)
        full = torch.cat([a, a], -1)
        return full.cos(), full.sin()

    @staticmethod
    def rotate(t, cos, sin):
        half = t.shape[-1] // 2
        rot = torch.cat([-t[..., half:], t[..., :half]], -1)
        return (t.float() * cos + rot.float() * sin).to(t.dtype)

    def __call__(self, ids):
        B, T = ids.shape
        w = self.w
        x = F.embedding(ids, w["wte.weight"])
        cos, sin = self.rope(T)
        for i in range(self.L):
            p = f"blocks.{i}."
            a = self.rms(x, w[p + "attn_norm.weight"])
            q = F.linear(a, w[p + "q_proj.weight"]).view(B, T, self.H, self.h).transpose(1, 2)
            k = F.linear(a, w[p + "k_proj.weight"]).view(B, T, self.H, self.h).transpose(1, 2)
            v = F.linear(a, w[p + "v_proj.weight"]).view(B, T, self.H, self.h).transpose(1, 2)
            q, k = self.rotate(q, cos, sin), self.rotate(k, cos, sin)
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False)
            x = x + F.linear(o.transpose(1, 2).reshape(B, T, self.d), w[p + "attn_out.weight"])
            m = self.rms(x, w[p + "ff_norm.weight"])
            x = x + F.linear(F.silu(F.linear(m, w[p + "ff_proj.weight"])) * F.linear(m, w[p + "up_proj.weight"]),
                             w[p + "ff_out.weight"])
        return F.linear(self.rms(x, w["ln_f.weight"]), w["ff_out.weight"])[..., :self.vocab]


def add_gumbel_noise(logits, temperature):
    """§1.7 as d1/LLaDA generate.py: float64 over the whole vocabulary."""
    if temperature == 0:
        return logits
    logits = logits.to(torch.float64)
    noise = torch.rand_like(logits, dtype=torch.float64)
    gumbel_noise = (-torch.log(noise)) ** temperature
    return logits.exp() / gumbel_noise


def linear_counts(mask_index, steps):
    """§1.2 get_num_transfer_tokens."""
    m = mask_index.sum(dim=1, keepdim=True)
    base, rem = m // steps, m % steps
    n = torch.zeros(m.size(0), steps, dtype=torch.int64) + base
    for i in range(m.size(0)):
        n[i, :rem[i]] += 1
    return n


class Timer:
    def __init__(self):
        self.model = 0.0
        self.forwards = 0


def step(model, x, mask_id, end, k_row, temperature, gamma, eos_id, timer):
    """§1.1 one unmasking step; k_row: [B] tokens per row."""
    mask_index = x == mask_id
    t0 = time.perf_counter()
    logits = model(x)
    timer.model += time.perf_counter() - t0
    timer.forwards += 1
    logits_with_noise = add_gumbel_noise(logits, temperature)
    x0 = torch.argmax(logits_with_noise, dim=-1)
    p = F.softmax(logits, dim=-1)
    x0_p = torch.squeeze(torch.gather(p, dim=-1, index=torch.unsqueeze(x0, -1)), -1)
    if gamma != 1.0:  # EOSER: scale the confidence of EOS candidates
        x0_p = torch.where(x0 == eos_id, x0_p * gamma, x0_p)
    x0_p[:, end:] = -math.inf
    x0 = torch.where(mask_index, x0, x)
    confidence = torch.where(mask_index, x0_p, torch.tensor(-math.inf))
    transfer_index = torch.zeros_like(x0, dtype=torch.bool)
    for j in range(confidence.shape[0]):
        kk = int(k_row[j])
        if kk > 0:
            _, select_index = torch.topk(confidence[j], k=kk)
            transfer_index[j, select_index] = True
    x[transfer_index] = x0[transfer_index]


def semi_ar(model, x, P, job, mask_id, eos_id, timer, cap):
    L, steps, block = job["gen_length"], job["steps"], job["block_length"]
    nb = L // block
    spb = max(1, steps // nb)
    done = 0
    for b in range(nb):
        s, e = P + b * block, P + (b + 1) * block
        counts = linear_counts(x[:, s:e] == mask_id, spb)
        for i in range(spb):
            if cap and done >= cap:
                return
            step(model, x, mask_id, e, counts[:, i], job["temperature"], 1.0, eos_id, timer)
            done += 1


def eoser_ass(model, x, P, job, mask_id, eos_id, timer, cap):
    """§1.5 + §1.6 with one block: counts 1, 2, 4, ..., the rest; power-of-two gamma."""
    L, steps = job["gen_length"], job["steps"]
    gmin, gmax = job["gamma_min"], job["gamma_max"]
    for i in range(steps):
        if cap and i >= cap:
            return
        n = 2 ** i if i < steps - 1 else L - (2 ** (steps - 1) - 1)
        t = (2 ** (i + 1) - 1) / 2 ** steps
        gamma = gmax if steps <= 1 else gmin + (gmax - gmin) * t
        step(model, x, mask_id, P + L, torch.full((x.size(0),), n), job["temperature"], gamma, eos_id, timer)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--job", required=True)
    a = ap.parse_args()
    job = json.loads(Path(a.job).read_text())
    torch.set_num_threads(int(job["threads"]))
    torch.manual_seed(int(job.get("seed", 0)))
    folder = Path(a.model)
    cfg = json.loads((folder / "config.json").read_text())
    mask_id, eos_id, pad_id = cfg["mask_token_id"], cfg["eos_token_id"], cfg["pad_token_id"]
    model = Llada(folder)
    prompts = job["prompts"]
    P = max(len(p) for p in prompts)
    L = job["gen_length"]
    x = torch.full((len(prompts), P + L), mask_id, dtype=torch.int64)
    for i, p in enumerate(prompts):  # left padding with the pad id (tokenizer padding_side = left)
        x[i, :P - len(p)] = pad_id
        x[i, P - len(p):P] = torch.tensor(p, dtype=torch.int64)
    run = semi_ar if job["decoding"] == "semi_ar" else eoser_ass
    with torch.no_grad():
        warm = Timer()
        run(model, x.clone(), P, job, mask_id, eos_id, warm, 1)  # warm-up: one step
        timer = Timer()
        t0 = time.perf_counter()
        run(model, x, P, job, mask_id, eos_id, timer, int(job.get("steps_timed", 0)))
        total = time.perf_counter() - t0
    print(json.dumps({"forwards": timer.forwards, "seconds_total": total, "seconds_model": timer.model,
                      "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "completion": x[:, P:].tolist()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
