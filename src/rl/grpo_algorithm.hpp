// The seam between the GRPO loop and the three paper algorithms (DESIGN.md "rl/"): log-probs of a
// rollout once (old and reference), and the loss of one micro-batch *with its backward inside*, so
// that CJ-GRPO's per-step backward (one forward and backward per decoding step) lives in
// cj_grpo.cpp alone while diffu-GRPO and one-step GRPO do one forward and one backward.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/rng.hpp"
#include "rl/grpo_config.hpp"
#include "rl/rollout_batch.hpp"

namespace mdrl::model {
class LladaModelImpl;
}

namespace mdrl::rl {

// The networks an algorithm scores with. Reference = `reference` when set (a frozen copy of the
// starting weights: full fine-tuning), else `policy` with its LoRA adapters disabled.
struct Policies {
  model::LladaModelImpl* policy = nullptr;
  model::LladaModelImpl* reference = nullptr;
  int64_t mask_id = 0;
  // decode.attention_mask = false (Q15): scoring forwards attend the left padding too, as the
  // rollouts then do; by default pads are masked out of attention.
  bool attend_padding = false;
};

// What one micro-batch's loss reports (token means over its valid completion tokens).
struct MicroBatchStats {
  double loss = 0;        // the objective's value (before the 1/GA scale)
  double kl = 0;          // masked token mean of the k3 KL (0 with beta = 0)
  double clip_ratio = 0;  // TRL's clip_ratio
  double tokens = 0;      // valid completion tokens scored
  double empty_steps = 0; // CJ-GRPO: decoding steps that unmasked nothing in the micro-batch
};

class GrpoAlgorithm {
 public:
  virtual ~GrpoAlgorithm() = default;
  virtual std::string name() const = 0;
  // True when the rollouts should record the sampled tokens' log-probs (decode::Trace::logp), which
  // CJ-GRPO takes as its old log-probs instead of recomputing them.
  virtual bool wants_rollout_logp() const { return false; }
  // Once per rollout, no grad: batch.old_logp (when mu > 1) and batch.ref_logp (when beta > 0),
  // and any per-rollout randomness (diffu-GRPO's mask seeds, drawn from `seeds`, a private stream:
  // nothing global is reseeded). The caller sets dropout on or off (grpo.rollout_dropout).
  virtual void prepare(const Policies& nets, RolloutBatch& batch, core::RngStream& seeds) = 0;
  // Forward(s) of the policy for inner iteration `reuse` (0..mu-1) of micro-batch `micro`
  // (0..GA-1), the objective, and backward of loss * loss_scale (1/GA) inside.
  virtual MicroBatchStats loss_and_backward(const Policies& nets, const RolloutBatch& batch, int64_t reuse,
                                            int64_t micro, double loss_scale) = 0;
};

// "diffu-grpo" | "one-step-grpo" | "cj-grpo"; core::ConfigError otherwise.
std::unique_ptr<GrpoAlgorithm> make_algorithm(const std::string& mode, const GrpoConfig& cfg, int64_t grad_accum);

}  // namespace mdrl::rl
