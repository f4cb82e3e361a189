// CJ-GRPO, consistency-trajectory GRPO (spec algorithms.md §2.3, §2.4; quirks Q12, Q21): the
// likelihood of exactly the transitions the sampler took. A rollout's trace gives the states
// x_0 .. x_S (decode::rebuild_state) and the positions u_i unmasked at step i (step_map == i);
// step i's log-prob is log p(x_{i+1}[j] | x_i) at j in u_i, from one forward on the full state x_i.
//
//   L_CJ = sum_i w_i * objective_i,   objective_i = the PPO-clip token objective of rl/grpo_objective
//                                     over u_i (grpo.loss_norm within the step)
//   w_i  = 1/S (grpo.cj_loss_norm = steps: the paper) or n_i / sum_k n_k (tokens)
//
// A step that unmasks nothing in the micro-batch contributes 0 instead of the reference's 0/0 NaN
// (Q12) and is counted (MicroBatchStats::empty_steps).
//
// Memory: the loss is a sum of per-step terms, each depending on one forward, so the backward runs
// step by step (forward on x_i, backward of w_i * objective_i, next step): the activations of one
// step are alive at a time, never S graphs as in the reference (§2.5). The LM head runs only on
// the u_i rows (model::token_logprobs).
//
// Old log-probs (mu > 1): with dropout-free rollouts the rollout's own forwards already computed
// log p(x_{i+1} | x_i) on the same network and states (decode::Trace::logp), so no extra forwards;
// otherwise (grpo.rollout_dropout, grpo.cj_old_logp = recompute, or a padded vocabulary) S no-grad
// forwards. Reference log-probs (beta > 0): S no-grad forwards of the reference. Both are stored as
// [B, L]: each position holds the value of the one step that unmasked it.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "model/llada.hpp"
#include "rl/grpo_algorithm.hpp"

namespace mdrl::rl {

// x_i of the rollout: [B, P + L] int64 on the CPU (prompt, completion tokens unmasked before step i,
// mask elsewhere).
torch::Tensor cj_state(const RolloutBatch& batch, int64_t step, int64_t mask_id);

// log p(x_{i+1}[b, j] | x_i[b]) at the positions unmasked at step i, scattered into [B, L] f32 on
// the network's device (0 elsewhere): one forward of `net` on x_i, the LM head on the u_i rows
// only. Differentiable when grad mode is on. attention_mask: [B, P + L] bool.
torch::Tensor cj_step_logprobs(model::LladaModelImpl& net, const RolloutBatch& batch, int64_t step,
                               const torch::Tensor& attention_mask, int64_t mask_id);

// The per-position log-probs of the whole trajectory ([B, L] f32 on the CPU, no grad): S forwards,
// position j holding the value of the step that unmasked it (0 where none did).
torch::Tensor cj_trajectory_logprobs(model::LladaModelImpl& net, const RolloutBatch& batch,
                                     const torch::Tensor& attention_mask, int64_t mask_id);

// Step i's weight w_i in the micro-batch loss (before the 1/GA scale); 0 for a step that unmasks
// nothing. unmasked: [S] tokens unmasked per step in the micro-batch.
double cj_step_weight(const GrpoConfig& cfg, const std::vector<int64_t>& unmasked, int64_t step);

// Tokens unmasked at each step in the batch's rows: [S] (from the trace's step map).
std::vector<int64_t> cj_unmasked_per_step(const RolloutBatch& batch);

struct CjStepObjective {
  torch::Tensor loss;  // [] w_i * objective_i, differentiable wrt logp
  double kl = 0, clip_ratio = 0;  // the step's token means (0 for an empty step)
  double tokens = 0;              // n_i
};

// Step i's weighted objective on its current log-probs logp [B, L] (cj_step_logprobs), with the
// stored old/ref [B, L] (undefined: rho = 1 / no KL).
CjStepObjective cj_step_objective(const GrpoConfig& cfg, const RolloutBatch& batch, int64_t step,
                                  const std::vector<int64_t>& unmasked, const torch::Tensor& logp,
                                  const torch::Tensor& old_logp, const torch::Tensor& ref_logp);

class CjGrpo : public GrpoAlgorithm {
 public:
  explicit CjGrpo(const GrpoConfig& cfg);
  std::string name() const override { return "cj-grpo"; }
  bool wants_rollout_logp() const override;
  void prepare(const Policies& nets, RolloutBatch& batch, core::RngStream& seeds) override;
  MicroBatchStats loss_and_backward(const Policies& nets, const RolloutBatch& batch, int64_t reuse, int64_t micro,
                                    double loss_scale) override;

 private:
  GrpoConfig cfg_;
};

}  // namespace mdrl::rl
