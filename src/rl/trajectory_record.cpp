// Rollout -> trajectory batch (trajectory_record.hpp).
#include "rl/trajectory_record.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "tasks/task.hpp"

namespace mdrl::rl {
namespace {
std::string shape(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d > 0 ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}
}  // namespace

io::TrajectoryBatch to_trajectory(const RolloutBatch& batch, int64_t step, const std::string& decoding_json) {
  io::TrajectoryBatch t;
  t.step = step;
  t.decoding = decoding_json;
  const int64_t B = batch.rows();
  if (B == 0) return t;
  const int64_t L = batch.completion.size(1);
  MDRL_CHECK(batch.advantages.defined() && batch.advantages.numel() == B, core::InternalError,
             "trajectory record at step " + std::to_string(step) + ": the rollout has no advantages for its " +
                 std::to_string(B) + " rows");
  MDRL_CHECK(batch.group.size() == static_cast<size_t>(B), core::InternalError,
             "trajectory record at step " + std::to_string(step) + ": " + std::to_string(batch.group.size()) +
                 " group ids for " + std::to_string(B) + " rows");
  t.prompt_ids = batch.prompt_ids;
  t.prompt_mask = batch.prompt_mask;
  t.completion_ids = batch.completion;
  t.step_map = batch.trace.step_map;
  t.confidence = batch.trace.confidence;
  t.rewards = batch.rewards;
  t.reward = batch.reward;
  t.advantage = batch.advantages.reshape({B});
  t.group_id = torch::tensor(batch.group, torch::kLong);
  if (batch.old_logp.defined()) {
    const auto& lp = batch.old_logp;
    const bool ok = (lp.dim() == 2 && lp.size(0) == B && lp.size(1) == L) ||
                    (lp.dim() == 3 && lp.size(0) >= 1 && lp.size(1) == B && lp.size(2) == L);
    MDRL_CHECK(ok, core::InternalError,
               "trajectory record at step " + std::to_string(step) + ": old log-probs of shape " + shape(lp) +
                   " fit neither [B, L] nor [mu, B, L] with B = " + std::to_string(B) + ", L = " + std::to_string(L));
    t.old_logprob = lp.dim() == 3 ? lp.select(0, 0) : lp;
  }
  return t;
}

std::vector<std::string> reward_names(const tasks::Task& task, const tasks::TasksConfig& cfg) {
  std::vector<std::string> names;
  for (const auto& c : task.rewards(cfg)) names.push_back(c.name);
  return names;
}

}  // namespace mdrl::rl
