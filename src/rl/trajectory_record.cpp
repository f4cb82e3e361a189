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

// This rank's GA micro-batches of one step as one trajectory record: prompts left-padded to one
// width (the padding is marked in prompt_mask, so it is not stored), everything else concatenated.
io::TrajectoryBatch concat_trajectories(const std::vector<io::TrajectoryBatch>& parts) {
  if (parts.size() == 1) return parts[0];
  int64_t P = 0;
  for (const auto& p : parts) P = std::max<int64_t>(P, p.prompt_ids.size(1));
  io::TrajectoryBatch out = parts[0];
  std::vector<torch::Tensor> ids, mask, comp, smap, conf, rws, rw, adv, gid, old;
  bool have_old = true;
  for (const auto& p : parts) {
    const int64_t pad = P - p.prompt_ids.size(1);
    ids.push_back(torch::constant_pad_nd(p.prompt_ids, {pad, 0}, 0));
    const auto m = p.prompt_mask.defined() ? p.prompt_mask : torch::ones_like(p.prompt_ids, torch::kBool);
    mask.push_back(torch::constant_pad_nd(m.to(torch::kUInt8), {pad, 0}, 0).to(torch::kBool));
    comp.push_back(p.completion_ids);
    smap.push_back(p.step_map);
    conf.push_back(p.confidence);
    rws.push_back(p.rewards);
    rw.push_back(p.reward);
    adv.push_back(p.advantage);
    gid.push_back(p.group_id);
    have_old = have_old && p.old_logprob.defined();
    if (p.old_logprob.defined()) old.push_back(p.old_logprob);
  }
  out.prompt_ids = torch::cat(ids);
  out.prompt_mask = torch::cat(mask);
  out.completion_ids = torch::cat(comp);
  out.step_map = torch::cat(smap);
  out.confidence = torch::cat(conf);
  out.rewards = torch::cat(rws);
  out.reward = torch::cat(rw);
  out.advantage = torch::cat(adv);
  out.group_id = torch::cat(gid);
  out.old_logprob = have_old ? torch::cat(old) : torch::Tensor();
  return out;
}

}  // namespace mdrl::rl
