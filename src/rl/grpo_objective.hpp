// The PPO-clip token objective of the GRPO family with the k3 KL estimator (spec algorithms.md
// §2.0 "PPO-clip objective", §2.1/§2.2 loss normalisation; quirks Q9, Q10 work here by design).
// Per completion token, with lp the current log-prob, lp_old the stored one (lp.detach() when
// mu = 1) and lp_ref the reference policy's:
//   rho  = exp(lp - lp_old)
//   l    = -min(rho * A, clip(rho, 1 - eps, 1 + eps) * A) + beta * KL
//   KL   = exp(lp_ref - lp) - (lp_ref - lp) - 1                         (k3, >= 0)
// reduced over the valid tokens (mask) either as one token mean over the micro-batch (the
// reference) or per-sequence token means averaged over the sequences that have tokens. Empty masks
// (a row, or the whole micro-batch) give 0, never NaN. Metrics are masked token means: kl, and
// clip_ratio = share of tokens with rho * A < clip(rho) * A exactly as TRL/the reference computes
// it (the ratio left the range on the side where min() keeps the unclipped term), plus
// clip_active_ratio = share of tokens whose clipped term is the one min() picks (clip(rho) * A <
// rho * A: the token gets no gradient). Tensors in, tensors out; no model, no MPI.
#pragma once

#include <torch/torch.h>

#include "rl/grpo_config.hpp"

namespace mdrl::rl {

struct ObjectiveSettings {
  double beta = 0.04;
  double epsilon = 0.5;
  LossNorm norm = LossNorm::Tokens;
};

struct ObjectiveInputs {
  torch::Tensor logp;        // [B, T] current policy, requires grad; bf16/f16 are computed in f32
  torch::Tensor old_logp;    // [B, T] stored old policy; undefined = mu = 1 (lp.detach(): rho = 1)
  torch::Tensor ref_logp;    // [B, T] reference policy; undefined = no KL (beta = 0)
  torch::Tensor advantages;  // [B] one per sequence
  torch::Tensor mask;        // [B, T] 1 = valid completion token (bool or 0/1 numbers)
};

// The per-token terms before reduction, all [B, T] in the compute dtype (f32, or f64 for f64 lp).
struct TokenTerms {
  torch::Tensor loss;          // -min(rho A, clip(rho) A) + beta KL, differentiable wrt lp
  torch::Tensor kl;            // detached; zeros when no ref_logp
  torch::Tensor ratio;         // detached rho
  torch::Tensor clipped;       // detached 0/1: rho A < clip(rho) A (TRL's is_clipped)
  torch::Tensor clip_active;   // detached 0/1: clip(rho) A < rho A
};

struct ObjectiveResult {
  torch::Tensor loss;               // [] differentiable wrt inputs.logp
  torch::Tensor kl;                 // [] detached masked token mean of KL (0 without ref_logp)
  torch::Tensor clip_ratio;         // [] detached masked token mean of TokenTerms::clipped
  torch::Tensor clip_active_ratio;  // [] detached masked token mean of TokenTerms::clip_active
  torch::Tensor tokens;             // [] detached number of valid tokens (the mask's sum)
};

// Throws core::InternalError on mismatched shapes. ref_logp with beta = 0 feeds the kl metric only.
TokenTerms grpo_token_terms(const ObjectiveInputs& in, const ObjectiveSettings& s);
ObjectiveResult grpo_objective(const ObjectiveInputs& in, const ObjectiveSettings& s);

// The objective's settings from [grpo].
ObjectiveSettings objective_settings(const GrpoConfig& cfg);

}  // namespace mdrl::rl
