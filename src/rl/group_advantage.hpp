// Group-relative advantages (spec algorithms.md §2.0 step 9): rewards of B = groups x G completions,
// each group the G consecutive samples of one prompt, give A = r - group mean, optionally divided by
// (unbiased group std + 1e-4) as TRL does. The unbiased group std also feeds the metrics reward_std
// (mean over samples, i.e. over groups, of the group std) and zero_std_ratio (share of samples whose
// group std is below 1e-6). Since a group never spans ranks, a rank's rows are whole groups and
// nothing here communicates. Tensors only.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "rl/grpo_config.hpp"

namespace mdrl::rl {

inline constexpr double kAdvantageStdEps = 1e-4;  // TRL: (r - mean) / (std + 1e-4)
inline constexpr double kZeroStdThreshold = 1e-6;  // the reference's zero_std count threshold

struct GroupAdvantages {
  torch::Tensor advantages;     // [B], the dtype of the rewards (at least f32), no grad
  torch::Tensor group_mean;     // [groups]
  torch::Tensor group_std;      // [groups], unbiased
  torch::Tensor reward_std;     // [] mean of group_std (TRL's reward_std metric)
  torch::Tensor zero_std_ratio; // [] share of groups (= of samples) with group std < 1e-6
};

// rewards: [B] (B a multiple of num_generations >= 2), finite. Throws core::NumericError on a
// non-finite reward and core::InternalError when B is not whole groups.
GroupAdvantages group_advantages(const torch::Tensor& rewards, int64_t num_generations, AdvantageScaling scaling);

}  // namespace mdrl::rl
