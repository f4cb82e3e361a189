// diffu-GRPO (d1; spec algorithms.md §2.1, §2.4): the log-likelihood of the final completion token
// at each completion position given a randomly perturbed input, the prompt with each real token
// replaced by the mask id with probability p_mask_prompt and the completion all mask. Each of the
// mu inner iterations has its own prompt mask, from a seed drawn once per rollout; old (mu > 1) and
// reference (beta > 0) log-probs are computed for all mu masks at prepare() time ([mu, B, L]), and
// iteration (reuse, micro) trains on mask mask_iteration_index(cfg, reuse, micro, GA) (Q8: the
// reference's index pattern is an option). The masks come from a private CPU generator seeded per
// mask, so old, ref and current see the identical input and no global generator is touched (Q8).
// mu = 1 with beta > 0 works (Q9 fixed).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "rl/grpo_algorithm.hpp"

namespace mdrl::rl {

// The fixed mask seed of every iteration with grpo.random_masking = false (the reference's 42).
inline constexpr uint64_t kFixedMaskSeed = 42;

// The perturbed input of one mask seed: [B, P + L] int64 on the CPU. U = torch::rand({B, P + L}) from
// a CPU generator seeded with `seed` (same seed + same shape => same mask); a real prompt position
// (prompt_mask true) becomes mask_id where U < p_mask, pads are kept; every completion position is
// mask_id.
torch::Tensor perturbed_input(const RolloutBatch& batch, uint64_t seed, double p_mask, int64_t mask_id);

class DiffuGrpo : public GrpoAlgorithm {
 public:
  DiffuGrpo(const GrpoConfig& cfg, int64_t grad_accum);
  std::string name() const override { return "diffu-grpo"; }
  // batch.mask_seeds (mu seeds from `seeds`, or kFixedMaskSeed mu times), batch.old_logp [mu, B, L]
  // (mu > 1) and batch.ref_logp [mu, B, L] (beta > 0), f32 on the CPU. One forward of B rows per
  // mask and network, in mask order.
  void prepare(const Policies& nets, RolloutBatch& batch, core::RngStream& seeds) override;
  MicroBatchStats loss_and_backward(const Policies& nets, const RolloutBatch& batch, int64_t reuse, int64_t micro,
                                    double loss_scale) override;

  // Which of the mu masks iteration (reuse, micro) trains on (mask_iteration_index).
  int64_t mask_index(int64_t reuse, int64_t micro) const;
  // The policy input of iteration (reuse, micro): perturbed_input with batch.mask_seeds[mask_index].
  torch::Tensor input_for(const RolloutBatch& batch, int64_t reuse, int64_t micro, int64_t mask_id) const;

 private:
  GrpoConfig cfg_;
  int64_t grad_accum_;
};

}  // namespace mdrl::rl
