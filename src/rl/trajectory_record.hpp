// Trajectory records (DESIGN.md "Data flow of one GRPO step" 6, "rl/trajectory_record"): a rollout
// with its rewards, advantages and old log-probs as the io/ trajectory batch of one rank and step;
// writing stays in io/ (io::TrajectoryWriter). The step map and confidences come from the decoding
// trace, so every intermediate state of a sample can be rebuilt from the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/trajectory_store.hpp"
#include "rl/rollout_batch.hpp"

namespace mdrl::tasks {
class Task;
struct TasksConfig;
}  // namespace mdrl::tasks

namespace mdrl::rl {

// The batch's rows as a trajectory batch at training step `step`, with `decoding_json` (the
// decoding settings) recorded. Shares the batch's tensors (no copies). old_logprob: undefined
// when the batch has no old log-probs (mu = 1); [B, L] as is (one-step GRPO, CJ-GRPO: each position
// is unmasked once, so one value per position); diffu-GRPO's [mu, B, L] stores old_logp[0], the
// log-probs under the first inner iteration's prompt mask (the file holds one [L] row per sample).
// Throws core::InternalError when the advantages are missing or a shape does not fit. A batch of 0
// rows gives a batch with only step and decoding set.
io::TrajectoryBatch to_trajectory(const RolloutBatch& batch, int64_t step, const std::string& decoding_json);

// The reward component names of `task`, in the column order of RolloutBatch::rewards
// (io::TrajectoryMeta::reward_names).
std::vector<std::string> reward_names(const tasks::Task& task, const tasks::TasksConfig& cfg);

// Several records of one step (a rank's GA micro-batches) as one: prompts left-padded to one width
// (the padding marked in prompt_mask, so it is not stored), everything else concatenated.
io::TrajectoryBatch concat_trajectories(const std::vector<io::TrajectoryBatch>& parts);

}  // namespace mdrl::rl
