// PPO-clip token objective with the k3 KL, spec algorithms.md §2.0-§2.2 (grpo_objective.hpp).
#include "rl/grpo_objective.hpp"

#include <string>

#include "core/error.hpp"

namespace mdrl::rl {

namespace {

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

void check_like(const torch::Tensor& t, const torch::Tensor& logp, const char* name) {
  MDRL_CHECK(t.sizes() == logp.sizes(), core::InternalError,
             std::string("grpo_objective: ") + name + " is " + shape_text(t) + ", logp is " + shape_text(logp));
}

// Masked token mean; 0 for an empty mask.
torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& m, const torch::Tensor& count) {
  return (x * m).sum() / count.clamp_min(1);
}

}  // namespace

TokenTerms grpo_token_terms(const ObjectiveInputs& in, const ObjectiveSettings& s) {
  MDRL_CHECK(in.logp.defined() && in.logp.dim() == 2, core::InternalError, "grpo_objective: logp must be [B, T]");
  check_like(in.mask, in.logp, "mask");
  if (in.old_logp.defined()) check_like(in.old_logp, in.logp, "old_logp");
  if (in.ref_logp.defined()) check_like(in.ref_logp, in.logp, "ref_logp");
  MDRL_CHECK(in.advantages.dim() == 1 && in.advantages.size(0) == in.logp.size(0), core::InternalError,
             "grpo_objective: advantages is " + shape_text(in.advantages) + ", logp is " + shape_text(in.logp));

  // The reference casts log-probs to f32; f64 stays f64 (golden tests).
  const auto dt = in.logp.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const auto valid = in.mask.to(torch::kBool);
  const auto zero = torch::zeros({}, in.logp.options().dtype(dt));
  // Positions outside the mask may hold anything (padding, -inf); zero them before the exp so
  // neither the loss nor its gradient can pick up inf * 0 = NaN there.
  const auto lp = torch::where(valid, in.logp.to(dt), zero);  // [B, T]
  const auto old = in.old_logp.defined() ? torch::where(valid, in.old_logp.to(dt), zero) : lp.detach();
  const auto adv = in.advantages.to(dt).unsqueeze(1);  // [B, 1]

  TokenTerms t;
  const auto ratio = torch::exp(lp - old);  // exactly 1 when old = lp.detach(), gradient rho
  const auto clipped_ratio = torch::clamp(ratio, 1.0 - s.epsilon, 1.0 + s.epsilon);
  const auto surrogate = ratio * adv;           // [B, T]
  const auto clipped_surrogate = clipped_ratio * adv;
  t.loss = -torch::min(surrogate, clipped_surrogate);
  if (in.ref_logp.defined()) {
    const auto d = torch::where(valid, in.ref_logp.to(dt), zero) - lp;
    const auto kl = torch::exp(d) - d - 1.0;
    if (s.beta != 0.0) t.loss = t.loss + s.beta * kl;
    t.kl = kl.detach();
  } else {
    t.kl = torch::zeros_like(lp).detach();
  }
  t.ratio = ratio.detach();
  t.clipped = (surrogate < clipped_surrogate).detach().to(dt);
  t.clip_active = (clipped_surrogate < surrogate).detach().to(dt);
  return t;
}

ObjectiveResult grpo_objective(const ObjectiveInputs& in, const ObjectiveSettings& s) {
  const auto t = grpo_token_terms(in, s);
  const auto m = in.mask.to(t.loss.scalar_type());  // [B, T] 0/1
  ObjectiveResult r;
  const auto count = m.sum();
  switch (s.norm) {
    case LossNorm::Tokens:
      // Spec §2.1/§2.2: sum over the micro-batch's valid tokens / their number.
      r.loss = masked_mean(t.loss, m, count);
      break;
    case LossNorm::Sequences: {
      // Per-sequence token means, averaged over the sequences that have a valid token.
      const auto row_count = m.sum(1);                                 // [B]
      const auto row_mean = (t.loss * m).sum(1) / row_count.clamp_min(1);  // [B]
      const auto nonempty = (row_count > 0).to(m.scalar_type());
      r.loss = (row_mean * nonempty).sum() / nonempty.sum().clamp_min(1);
      break;
    }
  }
  torch::NoGradGuard no_grad;
  r.kl = masked_mean(t.kl, m, count);
  r.clip_ratio = masked_mean(t.clipped, m, count);
  r.clip_active_ratio = masked_mean(t.clip_active, m, count);
  r.tokens = count.detach();
  return r;
}

ObjectiveSettings objective_settings(const GrpoConfig& cfg) {
  ObjectiveSettings s;
  s.beta = cfg.beta;
  s.epsilon = cfg.epsilon;
  s.norm = cfg.loss_norm;
  return s;
}

}  // namespace mdrl::rl
