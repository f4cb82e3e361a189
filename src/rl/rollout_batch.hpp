// One micro-batch of rollouts as every RL piece sees it (DESIGN.md "Data flow of one GRPO step"):
// what the rollout produced (rl/rollout), the rewards and advantages (rl/group_advantage), and what
// the algorithm computed once per rollout (old and reference log-probs, diffu-GRPO mask seeds).
// B rows = whole groups of G consecutive completions of the same prompt. All tensors live on the
// CPU unless noted; the algorithms move what they need to the model's device.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "decode/trace.hpp"

namespace mdrl::rl {

struct RolloutBatch {
  // --- rollout (rl/rollout) ---
  torch::Tensor prompt_ids;       // [B, P] int64, left-padded with the pad id, after left truncation
  torch::Tensor prompt_mask;      // [B, P] bool, true = real prompt token
  torch::Tensor completion;       // [B, L] int64: the final tokens x_S of the completion
  torch::Tensor completion_mask;  // [B, L] f32: 1 up to and including the first EOS (all 1 without EOS)
  decode::Trace trace;            // step map, confidences, per-step counts (CJ-GRPO rebuilds states from it)
  int64_t decode_steps = 0;       // S, the plan's number of steps
  std::vector<std::string> texts;  // completions detokenised (special tokens skipped), the reward input
  std::vector<int64_t> example;    // index of each row's prompt in the task's training examples
  std::vector<int64_t> group;      // global group id of each row (G consecutive rows share one)
  torch::Tensor rewards;           // [B, K] f32: each reward component (unweighted)
  torch::Tensor reward;            // [B] f32: the weighted total
  double seconds = 0;              // wall time of the decoding
  int64_t forwards = 0;            // denoiser calls of the decoding

  // --- rl/group_advantage ---
  torch::Tensor advantages;  // [B] f32

  // --- the algorithm's prepare() (once per rollout, no grad) ---
  torch::Tensor old_logp;               // algorithm-shaped ([B, L]; diffu-GRPO [mu, B, L]); undefined when mu = 1
  torch::Tensor ref_logp;               // same shape as old_logp; undefined when beta = 0
  std::vector<uint64_t> mask_seeds;     // diffu-GRPO: one prompt-mask seed per inner iteration

  int64_t rows() const { return completion.defined() ? completion.size(0) : 0; }
};

}  // namespace mdrl::rl
