// CJ-GRPO (spec algorithms.md §2.3; cj_grpo.hpp): trajectory states, per-step log-probs, the
// step-weighted objective and the per-step backward.
#include "rl/cj_grpo.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "decode/trace.hpp"
#include "rl/grpo_objective.hpp"
#include "rl/one_step_grpo.hpp"

namespace mdrl::rl {
namespace {

void check_trace(const RolloutBatch& batch) {
  const auto& sm = batch.trace.step_map;
  MDRL_CHECK(sm.defined() && sm.sizes() == batch.completion.sizes(), core::InternalError,
             "CJ-GRPO: the rollout has no step map [B, L] (decode trace missing)");
  MDRL_CHECK(batch.decode_steps > 0, core::InternalError, "CJ-GRPO: the rollout has no decoding steps");
}

}  // namespace

torch::Tensor cj_state(const RolloutBatch& batch, int64_t step, int64_t mask_id) {
  return decode::rebuild_state(batch.prompt_ids.to(torch::kLong), batch.completion.to(torch::kLong),
                               batch.trace.step_map, step, mask_id);  // [B, P + L]
}

torch::Tensor cj_step_logprobs(model::LladaModelImpl& net, const RolloutBatch& batch, int64_t step,
                               const torch::Tensor& attention_mask, int64_t mask_id) {
  const int64_t B = batch.rows(), L = batch.completion.size(1), P = batch.prompt_ids.size(1), T = P + L;
  const torch::Device dev = model_device(net);
  const auto longs = torch::TensorOptions().dtype(torch::kLong).device(dev);
  const auto u = decode::unmasked_at(batch.trace.step_map, step).to(dev).reshape({-1});  // [B * L] bool
  const auto where = u.nonzero().squeeze(1);                                                    // [n] into B * L
  auto out = torch::zeros({B * L}, torch::TensorOptions().dtype(torch::kFloat).device(dev));
  if (where.numel() == 0) return out.view({B, L});
  const auto x = cj_state(batch, step, mask_id).to(dev);                 // [B, T]
  const auto hidden = net.hidden(x, attention_mask.to(dev));            // [B, T, d]
  // Targets: the tokens of x_{i+1}, i.e. the final completion tokens at the u_i positions.
  const auto targets = torch::cat({x.narrow(1, 0, P), batch.completion.to(dev, torch::kLong)}, 1);  // [B, T]
  const auto rows = where.div(L, "floor"), cols = where.remainder(L);
  const auto flat = rows * T + P + cols;                                                            // [n]
  const auto lp = model::token_logprobs(net, hidden, flat.to(longs.dtype()), targets);              // [n] f32
  return out.index_copy(0, where, lp).view({B, L});
}

torch::Tensor cj_trajectory_logprobs(model::LladaModelImpl& net, const RolloutBatch& batch,
                                     const torch::Tensor& attention_mask, int64_t mask_id) {
  torch::NoGradGuard no_grad;
  check_trace(batch);
  torch::Tensor acc = torch::zeros(batch.completion.sizes(), torch::kFloat);  // [B, L]
  for (int64_t i = 0; i < batch.decode_steps; ++i) acc += cj_step_logprobs(net, batch, i, attention_mask, mask_id).to(torch::kCPU);
  return acc;
}

std::vector<int64_t> cj_unmasked_per_step(const RolloutBatch& batch) {
  check_trace(batch);
  const int64_t S = batch.decode_steps;
  const auto sm = batch.trace.step_map.to(torch::kCPU, torch::kLong).reshape({-1});
  const auto valid = sm.ge(0).logical_and(sm.lt(S));
  const auto counts = torch::bincount(sm.masked_select(valid), {}, S);  // [S]
  std::vector<int64_t> out(static_cast<size_t>(S));
  const auto a = counts.accessor<int64_t, 1>();
  for (int64_t i = 0; i < S; ++i) out[static_cast<size_t>(i)] = a[i];
  return out;
}

double cj_step_weight(const GrpoConfig& cfg, const std::vector<int64_t>& unmasked, int64_t step) {
  const auto n = unmasked.at(static_cast<size_t>(step));
  if (n == 0) return 0.0;
  if (cfg.cj_loss_norm == CjLossNorm::Steps) return 1.0 / static_cast<double>(unmasked.size());
  int64_t total = 0;
  for (const auto k : unmasked) total += k;
  return static_cast<double>(n) / static_cast<double>(total);
}

CjStepObjective cj_step_objective(const GrpoConfig& cfg, const RolloutBatch& batch, int64_t step,
                                  const std::vector<int64_t>& unmasked, const torch::Tensor& logp,
                                  const torch::Tensor& old_logp, const torch::Tensor& ref_logp) {
  const torch::Device dev = logp.device();
  CjStepObjective r;
  r.tokens = static_cast<double>(unmasked.at(static_cast<size_t>(step)));
  ObjectiveInputs in;
  in.logp = logp;                                                          // [B, L]
  if (old_logp.defined()) in.old_logp = old_logp.to(dev);                  // [B, L]
  if (ref_logp.defined()) in.ref_logp = ref_logp.to(dev);                  // [B, L]
  in.advantages = batch.advantages.to(dev, torch::kFloat).reshape({-1});   // [B]
  in.mask = decode::unmasked_at(batch.trace.step_map, step).to(dev);       // [B, L]: u_i
  const ObjectiveResult o = grpo_objective(in, objective_settings(cfg));  // empty u_i: 0, not NaN
  const double w = cj_step_weight(cfg, unmasked, step);
  r.loss = o.loss * w;
  r.kl = o.kl.item<double>();
  r.clip_ratio = o.clip_ratio.item<double>();
  return r;
}

CjGrpo::CjGrpo(const GrpoConfig& cfg) : cfg_(cfg) {}

bool CjGrpo::wants_rollout_logp() const {
  return cfg_.num_iterations > 1 && !cfg_.rollout_dropout && cfg_.cj_old_logp == CjOldLogp::Rollout;
}

void CjGrpo::prepare(const Policies& nets, RolloutBatch& batch, core::RngStream& /*seeds*/) {
  check_scorable(nets, batch, cfg_.beta);
  check_trace(batch);
  torch::NoGradGuard no_grad;
  const auto attn = scoring_attention_mask(batch, nets);  // [B, P + L], as the rollout attended
  const auto score = [&](model::LladaModelImpl& net) {
    return cj_trajectory_logprobs(net, batch, attn, nets.mask_id);  // [B, L]
  };
  batch.mask_seeds.clear();
  batch.old_logp = torch::Tensor();
  if (cfg_.num_iterations > 1) {
    // The rollout's log-probs are over the denoiser's vocabulary; the scoring forwards normalise
    // over the whole embedding table, so they agree only when the two are the same size.
    const auto& mc = nets.policy->config();
    const bool from_rollout = wants_rollout_logp() && batch.trace.logp.defined() &&
                              batch.trace.logp.sizes() == batch.completion.sizes() && mc.embedding_size == mc.vocab_size;
    batch.old_logp = from_rollout ? batch.trace.logp.to(torch::kCPU, torch::kFloat).masked_fill(batch.trace.step_map.lt(0), 0.0)
                                  : score(*nets.policy);
  }
  batch.ref_logp = cfg_.beta != 0.0 ? with_reference(nets, score) : torch::Tensor();
}

MicroBatchStats CjGrpo::loss_and_backward(const Policies& nets, const RolloutBatch& batch, int64_t reuse,
                                          int64_t /*micro*/, double loss_scale) {
  check_scorable(nets, batch, 0.0);
  check_trace(batch);
  MDRL_ASSERT(reuse >= 0 && reuse < cfg_.num_iterations);
  MDRL_CHECK(cfg_.num_iterations == 1 || (batch.old_logp.defined() && batch.old_logp.sizes() == batch.completion.sizes()),
             core::InternalError, "CJ-GRPO: old log-probs [B, L] missing (prepare() not called?)");
  MDRL_CHECK(cfg_.beta == 0.0 || (batch.ref_logp.defined() && batch.ref_logp.sizes() == batch.completion.sizes()),
             core::InternalError, "CJ-GRPO: reference log-probs [B, L] missing (prepare() not called?)");
  const auto attn = scoring_attention_mask(batch, nets);
  const auto unmasked = cj_unmasked_per_step(batch);
  const torch::Tensor old = cfg_.num_iterations > 1 ? batch.old_logp : torch::Tensor();
  const torch::Tensor ref = cfg_.beta != 0.0 ? batch.ref_logp : torch::Tensor();
  MicroBatchStats s;
  double w_sum = 0;
  for (int64_t i = 0; i < batch.decode_steps; ++i) {
    if (unmasked[static_cast<size_t>(i)] == 0) {
      s.empty_steps += 1;
      continue;
    }
    // One step's forward and backward before the next forward: one step's activations at a time.
    const auto lp = cj_step_logprobs(*nets.policy, batch, i, attn, nets.mask_id);  // [B, L]
    const auto o = cj_step_objective(cfg_, batch, i, unmasked, lp, old, ref);
    (o.loss * loss_scale).backward();
    const double w = cj_step_weight(cfg_, unmasked, i);
    s.loss += o.loss.detach().item<double>();
    s.kl += w * o.kl;
    s.clip_ratio += w * o.clip_ratio;
    s.tokens += o.tokens;
    w_sum += w;
  }
  // kl and clip_ratio: step means combined with the loss's weights, as the reference averages them.
  if (w_sum > 0) {
    s.kl /= w_sum;
    s.clip_ratio /= w_sum;
  }
  return s;
}

}  // namespace mdrl::rl
