#!/usr/bin/env python3
"""Generates the golden values of the RL objective tests (tests/data/rl/grpo_objective.json) with
plain PyTorch (float64), following the formulas of spec algorithms.md §2.0 (TRL GRPOTrainer as the
reference overrides it), independently of the C++ code:

- objective cases: per-token ratio rho = exp(lp - old) (old = lp.detach() when mu = 1), clipped
  surrogate -min(rho A, clamp(rho, 1 - eps, 1 + eps) A), k3 KL exp(ref - lp) - (ref - lp) - 1 added
  with beta, reduced as the token mean over the micro-batch's mask (the reference) or as per-sequence
  token means averaged over non-empty sequences; metrics kl and clip_ratio (masked means of the KL
  and of [rho A < clip(rho) A], as TRL computes it) and clip_active_ratio ([clip(rho) A < rho A]);
  the gradient of the loss wrt lp by autograd. Empty masks reduce to 0 (denominators clamped to 1).
- advantage cases: A = r - group mean over G consecutive rewards, optionally / (unbiased std + 1e-4);
  reward_std = mean of the group stds; zero_std_ratio = share of samples with group std < 1e-6.

Usage: python tools/gen_rl_fixtures.py [out_dir]   (default tests/data/rl)
"""
import json
import os
import sys

import torch

torch.set_default_dtype(torch.float64)


def objective(lp, old, ref, adv, mask, beta, eps, norm):
    lp = lp.clone().requires_grad_(True)
    old_ = old if old is not None else lp.detach()
    ratio = torch.exp(lp - old_)
    clipped = torch.clamp(ratio, 1 - eps, 1 + eps)
    s1 = ratio * adv.unsqueeze(1)
    s2 = clipped * adv.unsqueeze(1)
    per_tok = -torch.min(s1, s2)
    if ref is not None:
        d = ref - lp
        kl = torch.exp(d) - d - 1
        if beta != 0.0:
            per_tok = per_tok + beta * kl
    else:
        kl = torch.zeros_like(lp)
    m = mask
    count = m.sum().clamp(min=1)
    if norm == "tokens":
        loss = (per_tok * m).sum() / count
    else:
        row_count = m.sum(1)
        row_mean = (per_tok * m).sum(1) / row_count.clamp(min=1)
        nonempty = (row_count > 0).double()
        loss = (row_mean * nonempty).sum() / nonempty.sum().clamp(min=1)
    loss.backward()
    return {
        "loss": loss.item(),
        "kl": ((kl.detach() * m).sum() / count).item(),
        "clip_ratio": (((s1 < s2).double() * m).sum() / count).item(),
        "clip_active_ratio": (((s2 < s1).double() * m).sum() / count).item(),
        "tokens": m.sum().item(),
        "ratio": ratio.detach().tolist(),
        "grad": lp.grad.tolist(),
    }


def advantages(rewards, G, scale):
    r = torch.tensor(rewards)
    g = r.view(-1, G)
    mean = g.mean(1)
    std = g.std(1)  # unbiased, as torch/TRL
    a = g - mean.unsqueeze(1)
    if scale == "group":
        a = a / (std.unsqueeze(1) + 1e-4)
    std_per_sample = std.repeat_interleave(G)
    return {
        "rewards": rewards,
        "num_generations": G,
        "scale": scale,
        "advantages": a.reshape(-1).tolist(),
        "group_std": std.tolist(),
        "reward_std": std_per_sample.mean().item(),
        "zero_std_ratio": (std_per_sample < 1e-6).double().mean().item(),
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "data", "rl")
    os.makedirs(out_dir, exist_ok=True)
    gen = torch.Generator().manual_seed(20240601)
    B, T = 6, 5
    lp = -1.5 + 0.5 * torch.randn(B, T, generator=gen)
    old = lp + 0.6 * torch.randn(B, T, generator=gen)  # ratios well outside [0.5, 1.5] for some tokens
    ref = lp + 0.3 * torch.randn(B, T, generator=gen)
    adv = torch.tensor([1.2, -0.7, 0.3, -1.5, 0.0, 0.9])
    lengths = [5, 3, 1, 0, 4, 2]  # row 3 has no valid token
    mask = (torch.arange(T).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).double()

    cases = []

    def case(name, use_old, use_ref, beta, eps, norm, m=mask):
        res = objective(lp, old if use_old else None, ref if use_ref else None, adv, m, beta, eps, norm)
        res.update({"name": name, "use_old": use_old, "use_ref": use_ref, "beta": beta, "epsilon": eps,
                    "norm": norm, "mask": m.tolist()})
        cases.append(res)

    case("full_tokens", True, True, 0.04, 0.2, "tokens")
    case("full_sequences", True, True, 0.04, 0.2, "sequences")
    case("eps05_tokens", True, True, 0.04, 0.5, "tokens")
    case("beta0_no_ref", True, False, 0.0, 0.5, "tokens")
    case("beta0_with_ref", True, True, 0.0, 0.5, "tokens")
    case("mu1", False, True, 0.04, 0.5, "tokens")
    case("mu1_beta0", False, False, 0.0, 0.5, "tokens")
    case("mu1_sequences", False, True, 0.04, 0.5, "sequences")
    case("empty_mask", True, True, 0.04, 0.5, "tokens", torch.zeros(B, T))
    case("empty_mask_sequences", True, True, 0.04, 0.5, "sequences", torch.zeros(B, T))

    adv_cases = []
    r9 = [1.0, 0.0, 2.5, 0.5, 0.5, 0.5, 0.25, 0.25 + 1e-7, 0.25]
    r6 = [1.0, 0.0, 2.5, 0.5, -0.5, -0.5]
    for rewards, G in ((r9, 3), (r9, 9), (r6, 2), (r6, 3)):
        for scale in ("none", "group"):
            adv_cases.append(advantages(rewards, G, scale))

    doc = {
        "generator": "tools/gen_rl_fixtures.py (torch %s, float64)" % torch.__version__.split("+")[0],
        "inputs": {"logp": lp.tolist(), "old_logp": old.tolist(), "ref_logp": ref.tolist(),
                   "advantages": adv.tolist(), "mask": mask.tolist()},
        "objective": cases,
        "advantages": adv_cases,
    }
    path = os.path.join(out_dir, "grpo_objective.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
