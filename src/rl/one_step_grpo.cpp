// One-step GRPO (spec algorithms.md §2.2) and the completion scoring it shares with diffu-GRPO.
#include "rl/one_step_grpo.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "rl/grpo_objective.hpp"

namespace mdrl::rl {

torch::Tensor one_step_input(const RolloutBatch& batch, int64_t mask_id) {
  const auto& prompt = batch.prompt_ids;  // [B, P]
  const auto masks =
      torch::full({prompt.size(0), batch.completion.size(1)}, mask_id, prompt.options().dtype(torch::kLong));
  return torch::cat({prompt.to(torch::kLong), masks.to(prompt.device())}, 1);  // [B, P + L]
}

torch::Tensor scoring_attention_mask(const RolloutBatch& batch, const Policies& nets) {
  const auto& pm = batch.prompt_mask;  // [B, P]
  if (nets.attend_padding) return torch::ones({pm.size(0), pm.size(1) + batch.completion.size(1)}, pm.options().dtype(torch::kBool));
  const auto completion = torch::ones({pm.size(0), batch.completion.size(1)}, pm.options().dtype(torch::kBool));
  return torch::cat({pm.to(torch::kBool), completion}, 1);  // [B, P + L]
}

torch::Device model_device(const model::LladaModelImpl& net) {
  return net.wte->weight.device();
}

torch::Tensor completion_logprobs(model::LladaModelImpl& net, const torch::Tensor& input,
                                  const torch::Tensor& attention_mask, const torch::Tensor& completion) {
  const int64_t B = input.size(0), T = input.size(1), L = completion.size(1);
  MDRL_ASSERT(completion.size(0) == B && L <= T && attention_mask.sizes() == input.sizes());
  const int64_t P = T - L;
  const torch::Device dev = model_device(net);
  const auto ids = input.to(dev, torch::kLong);  // [B, T]
  // Only the completion rows' final hidden states: the last block's query side runs on them alone.
  const auto hidden = net.hidden(ids, attention_mask.to(dev), model::RowWindow{P, L});  // [B, L, d]
  // The targets: the final completion token at each completion position.
  const auto targets = completion.to(dev, torch::kLong);  // [B, L]
  const auto flat = torch::arange(B * L, torch::TensorOptions().dtype(torch::kLong).device(dev));
  return model::token_logprobs(net, hidden, flat, targets).view({B, L});  // [B, L] f32
}

void check_scorable(const Policies& nets, const RolloutBatch& batch, double beta) {
  MDRL_CHECK(nets.policy != nullptr, core::InternalError, "GRPO algorithm called without a policy network");
  MDRL_CHECK(beta == 0.0 || nets.reference != nullptr || nets.policy->has_lora(), core::InternalError,
             "grpo.beta > 0 needs a reference policy: LoRA adapters to disable, or a frozen copy of the weights");
  MDRL_CHECK(batch.prompt_ids.defined() && batch.prompt_mask.defined() && batch.completion.defined() &&
                 batch.completion_mask.defined() && batch.advantages.defined(),
             core::InternalError, "rollout batch without prompt, completion, completion_mask or advantages");
  const int64_t B = batch.rows();
  MDRL_CHECK(batch.prompt_ids.size(0) == B && batch.prompt_mask.sizes() == batch.prompt_ids.sizes() &&
                 batch.completion_mask.sizes() == batch.completion.sizes() && batch.advantages.numel() == B,
             core::InternalError, "rollout batch tensors disagree on their shapes");
}

MicroBatchStats objective_and_backward(const GrpoConfig& cfg, const RolloutBatch& batch, const torch::Tensor& logp,
                                       const torch::Tensor& old_logp, const torch::Tensor& ref_logp,
                                       double loss_scale) {
  const torch::Device dev = logp.device();
  ObjectiveInputs in;
  in.logp = logp;                                                         // [B, L]
  if (old_logp.defined()) in.old_logp = old_logp.to(dev);                 // [B, L]; undefined: rho = 1
  if (ref_logp.defined()) in.ref_logp = ref_logp.to(dev);                 // [B, L]; undefined: no KL
  in.advantages = batch.advantages.to(dev, torch::kFloat).reshape({-1});  // [B]
  in.mask = batch.completion_mask.to(dev);                                // [B, L]
  const ObjectiveResult r = grpo_objective(in, objective_settings(cfg));
  (r.loss * loss_scale).backward();
  MicroBatchStats s;
  s.loss = r.loss.detach().item<double>();
  s.kl = r.kl.item<double>();
  s.clip_ratio = r.clip_ratio.item<double>();
  s.tokens = r.tokens.item<double>();
  return s;
}

OneStepGrpo::OneStepGrpo(const GrpoConfig& cfg) : cfg_(cfg) {}

void OneStepGrpo::prepare(const Policies& nets, RolloutBatch& batch, core::RngStream& /*seeds*/) {
  check_scorable(nets, batch, cfg_.beta);
  torch::NoGradGuard no_grad;
  const auto input = one_step_input(batch, nets.mask_id);  // [B, P + L]
  const auto attn = scoring_attention_mask(batch, nets);         // [B, P + L]
  const auto score = [&](model::LladaModelImpl& net) {
    return completion_logprobs(net, input, attn, batch.completion).to(torch::kCPU);  // [B, L]
  };
  batch.mask_seeds.clear();
  batch.old_logp = cfg_.num_iterations > 1 ? score(*nets.policy) : torch::Tensor();
  batch.ref_logp = cfg_.beta != 0.0 ? with_reference(nets, score) : torch::Tensor();
}

MicroBatchStats OneStepGrpo::loss_and_backward(const Policies& nets, const RolloutBatch& batch, int64_t reuse,
                                               int64_t /*micro*/, double loss_scale) {
  check_scorable(nets, batch, 0.0);
  MDRL_ASSERT(reuse >= 0 && reuse < cfg_.num_iterations);
  const int64_t B = batch.rows(), L = batch.completion.size(1);
  MDRL_CHECK(cfg_.num_iterations == 1 || (batch.old_logp.defined() && batch.old_logp.dim() == 2 &&
                                          batch.old_logp.size(0) == B && batch.old_logp.size(1) == L),
             core::InternalError, "one-step GRPO: old log-probs [B, L] missing (prepare() not called?)");
  MDRL_CHECK(cfg_.beta == 0.0 || (batch.ref_logp.defined() && batch.ref_logp.sizes() == batch.completion.sizes()),
             core::InternalError, "one-step GRPO: reference log-probs [B, L] missing (prepare() not called?)");
  const auto logp = completion_logprobs(*nets.policy, one_step_input(batch, nets.mask_id),
                                        scoring_attention_mask(batch, nets), batch.completion);  // [B, L]
  return objective_and_backward(cfg_, batch, logp, cfg_.num_iterations > 1 ? batch.old_logp : torch::Tensor(),
                                cfg_.beta != 0.0 ? batch.ref_logp : torch::Tensor(), loss_scale);
}

}  // namespace mdrl::rl
