// diffu-GRPO (spec algorithms.md §2.1): per-iteration prompt masks, old/ref log-probs [mu, B, L].
#include "rl/diffu_grpo.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <vector>

#include "core/error.hpp"
#include "rl/one_step_grpo.hpp"

namespace mdrl::rl {

torch::Tensor perturbed_input(const RolloutBatch& batch, uint64_t seed, double p_mask, int64_t mask_id) {
  const auto x = one_step_input(batch, mask_id).to(torch::kCPU);  // [B, P + L], completion all mask
  const int64_t B = x.size(0), T = x.size(1), P = batch.prompt_ids.size(1);
  // The full [B, P + L] draw, as the reference's forward_process, of which the prompt part is used.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto u = torch::rand({B, T}, gen, torch::TensorOptions().dtype(torch::kFloat));  // [B, P + L]
  const auto hit = u.narrow(1, 0, P).lt(p_mask).logical_and(batch.prompt_mask.to(torch::kCPU, torch::kBool));  // [B, P]
  x.narrow(1, 0, P).masked_fill_(hit, mask_id);
  return x;
}

DiffuGrpo::DiffuGrpo(const GrpoConfig& cfg, int64_t grad_accum) : cfg_(cfg), grad_accum_(grad_accum) {
  MDRL_ASSERT(cfg.num_iterations >= 1 && grad_accum >= 1);
}

int64_t DiffuGrpo::mask_index(int64_t reuse, int64_t micro) const {
  return mask_iteration_index(cfg_, reuse, micro, grad_accum_);
}

torch::Tensor DiffuGrpo::input_for(const RolloutBatch& batch, int64_t reuse, int64_t micro, int64_t mask_id) const {
  const int64_t idx = mask_index(reuse, micro);
  MDRL_CHECK(static_cast<int64_t>(batch.mask_seeds.size()) == cfg_.num_iterations, core::InternalError,
             "diffu-GRPO: the rollout has no mask seeds (prepare() not called?)");
  return perturbed_input(batch, batch.mask_seeds[static_cast<size_t>(idx)], cfg_.p_mask_prompt, mask_id);
}

void DiffuGrpo::prepare(const Policies& nets, RolloutBatch& batch, core::RngStream& seeds) {
  check_scorable(nets, batch, cfg_.beta);
  const int64_t mu = cfg_.num_iterations;
  batch.mask_seeds.assign(static_cast<size_t>(mu), kFixedMaskSeed);
  if (cfg_.random_masking)
    for (auto& s : batch.mask_seeds) s = seeds.next_u64();

  torch::NoGradGuard no_grad;
  const auto attn = scoring_attention_mask(batch, nets);  // [B, P + L]
  std::vector<torch::Tensor> inputs;                // mu x [B, P + L]
  for (const uint64_t s : batch.mask_seeds)
    inputs.push_back(perturbed_input(batch, s, cfg_.p_mask_prompt, nets.mask_id));
  // One forward of B rows per mask (not one of mu * B rows): the peak memory of a training forward,
  // and the same shapes as the current policy's forward, so the first iteration's ratio is exactly 1
  // without dropout.
  const auto score_all = [&](model::LladaModelImpl& net) {
    std::vector<torch::Tensor> lp;  // mu x [B, L]
    for (const auto& x : inputs) lp.push_back(completion_logprobs(net, x, attn, batch.completion).to(torch::kCPU));
    return torch::stack(lp);  // [mu, B, L] f32
  };
  batch.old_logp = mu > 1 ? score_all(*nets.policy) : torch::Tensor();
  batch.ref_logp = cfg_.beta != 0.0 ? with_reference(nets, score_all) : torch::Tensor();
}

MicroBatchStats DiffuGrpo::loss_and_backward(const Policies& nets, const RolloutBatch& batch, int64_t reuse,
                                             int64_t micro, double loss_scale) {
  check_scorable(nets, batch, 0.0);
  const int64_t mu = cfg_.num_iterations, B = batch.rows(), L = batch.completion.size(1);
  MDRL_ASSERT(reuse >= 0 && reuse < mu && micro >= 0 && micro < grad_accum_);
  const auto stored = [&](const torch::Tensor& t) {
    return t.defined() && t.dim() == 3 && t.size(0) == mu && t.size(1) == B && t.size(2) == L;
  };
  MDRL_CHECK(mu == 1 || stored(batch.old_logp), core::InternalError,
             "diffu-GRPO: old log-probs [mu, B, L] missing (prepare() not called?)");
  MDRL_CHECK(cfg_.beta == 0.0 || stored(batch.ref_logp), core::InternalError,
             "diffu-GRPO: reference log-probs [mu, B, L] missing (prepare() not called?)");
  const int64_t idx = mask_index(reuse, micro);
  const auto logp = completion_logprobs(*nets.policy, input_for(batch, reuse, micro, nets.mask_id),
                                        scoring_attention_mask(batch, nets), batch.completion);  // [B, L]
  return objective_and_backward(cfg_, batch, logp, mu > 1 ? batch.old_logp[idx] : torch::Tensor(),
                                cfg_.beta != 0.0 ? batch.ref_logp[idx] : torch::Tensor(), loss_scale);
}

}  // namespace mdrl::rl
