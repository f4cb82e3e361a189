// The GA rollout micro-batches a rank optimises for mu steps, saved beside each checkpoint
// (<run.dir>/checkpoints/step_<N>.rollouts.r<rank>.safetensors, temporary + rename) so a run
// resumed in the middle of a mu-cycle reuses exactly the rollouts, old and reference log-probs it
// would have reused (the policy that produced them is gone by then). Texts are not stored: only
// what training reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rl/rollout_batch.hpp"

namespace mdrl::rl {

std::string rollout_buffer_path(const std::string& checkpoint_dir, int64_t step, int rank);
void save_rollout_buffer(const std::string& path, const std::vector<RolloutBatch>& buffer);
// core::FormatError naming the file when it is not such a buffer.
std::vector<RolloutBatch> load_rollout_buffer(const std::string& path);
// Removes this rank's buffers of steps whose checkpoint (step_<N>.h5) is gone.
void prune_rollout_buffers(const std::string& checkpoint_dir, int rank);

}  // namespace mdrl::rl
