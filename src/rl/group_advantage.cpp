// Group-relative advantages, spec algorithms.md §2.0 step 9 (group_advantage.hpp).
#include "rl/group_advantage.hpp"

#include <string>

#include "core/error.hpp"

namespace mdrl::rl {

GroupAdvantages group_advantages(const torch::Tensor& rewards, int64_t num_generations, AdvantageScaling scaling) {
  MDRL_CHECK(rewards.dim() == 1, core::InternalError,
             "group_advantages: rewards must be [B], got " + std::to_string(rewards.dim()) + " dimensions");
  const int64_t B = rewards.size(0);
  const int64_t G = num_generations;
  MDRL_CHECK(G >= 2 && B > 0 && B % G == 0, core::InternalError,
             "group_advantages: " + std::to_string(B) + " rewards are not whole groups of grpo.num_generations = " +
                 std::to_string(G));
  torch::NoGradGuard no_grad;
  const auto dtype = rewards.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const auto r = rewards.to(dtype);
  MDRL_CHECK(torch::isfinite(r).all().item<bool>(), core::NumericError,
             "group_advantages: a reward is NaN or infinite (reward functions must return finite values)");

  const auto grouped = r.view({B / G, G});  // [groups, G], groups of consecutive samples
  GroupAdvantages out;
  out.group_mean = grouped.mean(1);
  out.group_std = grouped.std(1, /*unbiased=*/true);
  auto adv = grouped - out.group_mean.unsqueeze(1);
  if (scaling == AdvantageScaling::Group) adv = adv / (out.group_std.unsqueeze(1) + kAdvantageStdEps);
  out.advantages = adv.reshape({B});
  // Every group has G samples, so means over samples (as the reference takes them over the
  // repeat_interleave'd std) equal means over groups.
  out.reward_std = out.group_std.mean();
  out.zero_std_ratio = (out.group_std < kZeroStdThreshold).to(dtype).mean();
  return out;
}

}  // namespace mdrl::rl
