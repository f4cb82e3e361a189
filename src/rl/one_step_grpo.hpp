// One-step GRPO (spec algorithms.md §2.2, §2.4): the likelihood of the whole final completion in one
// step from the fully masked response, log p(x_S[j] | prompt, M^L) at every completion position j;
// old (mu > 1) and reference (beta > 0) log-probs [B, L] once per rollout, one forward of the
// policy per inner iteration, the PPO-clip objective of rl/grpo_objective with the token mean over
// the micro-batch's completion_mask. beta = 0 trains without any reference forward (Q10 fixed).
//
// The scoring pieces here (the all-mask input, the attention mask, completion log-probs through
// model::token_logprobs) are shared with diffu-GRPO, whose input is this one with a masked prompt.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "model/llada.hpp"
#include "rl/grpo_algorithm.hpp"

namespace mdrl::rl {

// [prompt_ids | mask_id^L]: [B, P + L] int64 on the CPU (the x_0 of the rollout).
torch::Tensor one_step_input(const RolloutBatch& batch, int64_t mask_id);

// cat(prompt_mask, all true): [B, P + L] bool on the CPU. Left pads are never attended; the
// completion is attended everywhere (it is all mask tokens, none of them padding).
torch::Tensor scoring_attention_mask(const RolloutBatch& batch, const Policies& nets);

// The device of the network's parameters (where its inputs must go).
torch::Device model_device(const model::LladaModelImpl& net);

// lp[b, j] = log p(completion[b, j] | input[b]) read at position P + j, P = T - L: [B, L] f32 on the
// network's device, through model::token_logprobs (the LM head runs on the B * L completion rows
// only). input: [B, T] int64; attention_mask: [B, T] bool; completion: [B, L] int64 (any device).
// Differentiable when grad mode is on.
torch::Tensor completion_logprobs(model::LladaModelImpl& net, const torch::Tensor& input,
                                  const torch::Tensor& attention_mask, const torch::Tensor& completion);

// The reference network: nets.reference when set (full fine-tuning keeps a frozen copy), else the
// policy with its LoRA adapters off for the duration of `fn` (spec §2.0 step 2).
template <class Fn>
auto with_reference(const Policies& nets, Fn&& fn) {
  if (nets.reference != nullptr) return fn(*nets.reference);
  model::AdaptersDisabled off(*nets.policy);
  return fn(*nets.policy);
}

// Throws core::InternalError when nets or batch cannot be scored (no policy; beta > 0 with neither
// a reference copy nor LoRA adapters to disable; missing rollout tensors).
void check_scorable(const Policies& nets, const RolloutBatch& batch, double beta);

class OneStepGrpo : public GrpoAlgorithm {
 public:
  explicit OneStepGrpo(const GrpoConfig& cfg);
  std::string name() const override { return "one-step-grpo"; }
  // batch.old_logp [B, L] (mu > 1) and batch.ref_logp [B, L] (beta > 0), f32 on the CPU; no seeds.
  void prepare(const Policies& nets, RolloutBatch& batch, core::RngStream& seeds) override;
  MicroBatchStats loss_and_backward(const Policies& nets, const RolloutBatch& batch, int64_t reuse, int64_t micro,
                                    double loss_scale) override;

 private:
  GrpoConfig cfg_;
};

// The objective of one micro-batch on its current log-probs (the part diffu-GRPO and one-step GRPO
// share): grpo_objective on (logp, old, ref, advantages, completion_mask), backward of
// loss * loss_scale, and the stats as doubles. logp: [B, L] f32 with grad; old/ref: [B, L] or
// undefined (any device).
MicroBatchStats objective_and_backward(const GrpoConfig& cfg, const RolloutBatch& batch, const torch::Tensor& logp,
                                       const torch::Tensor& old_logp, const torch::Tensor& ref_logp, double loss_scale);

}  // namespace mdrl::rl
