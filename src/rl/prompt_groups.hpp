// Prompt groups of the GRPO family (spec algorithms.md §2.0 step 3; DESIGN.md "Data flow of one GRPO
// step" 1): per epoch one permutation of the N training examples, the same on every rank (Philox,
// purpose data_order, rank 0's stream at rng_block::kEpochStride * epoch: dist::ShardedSampler's
// permutation), cut into chunks of U = unique_prompts_per_step(...) prompts (an incomplete last
// chunk is dropped and the next epoch starts). Each chunk serves mu consecutive optimizer steps
// (one rollout, mu - 1 reuses). Within a chunk every prompt is repeated G times in a row, giving
// the U * G = W * per_device * GA rows of an optimizer step. Global micro-batch k is rows
// [k * W * b, (k + 1) * W * b) of them and rank r takes its slice [r * b, (r + 1) * b) (Accelerate's
// round-robin of per_device batches over ranks), so a rank's micro-batch is whole groups, and the
// ranks' micro-batches k side by side are what one rank with a W times larger batch gets.
#pragma once

#include <cstdint>
#include <vector>

#include "dist/sampler.hpp"
#include "rl/grpo_config.hpp"

namespace mdrl::rl {

// One row of a micro-batch: which training example is the prompt, and the id of its group.
struct PromptRow {
  int64_t example = 0;  // index into the task's training examples
  // Global group id, unique over the run and equal on every rank layout:
  // rollout * U + the prompt's place in its chunk (rollout = epoch * chunks_per_epoch + chunk).
  int64_t group = 0;
  bool operator==(const PromptRow&) const = default;
};

// This rank's share of one optimizer step.
struct PromptStep {
  // GA micro-batches of per_device rows each.
  std::vector<std::vector<PromptRow>> micro_batches;
  bool fresh = true;  // the step starts a new chunk: a rollout is needed (reuse == 0)
  int64_t reuse = 0;  // 0..mu-1: how many steps already used this chunk's rollout
  int64_t epoch = 0;
  int64_t chunk = 0;    // chunk index within the epoch
  int64_t rollout = 0;  // epoch * chunks_per_epoch + chunk: rollouts since the start of the run
};

class PromptGroups {
 public:
  // What a checkpoint stores (io::CheckpointState::samplers, e.g. under the name "prompt_groups"):
  // epoch, and cursor = completions (rows, all ranks together) of the epoch's repeated index stream
  // already handed out, i.e. the optimizer steps done in the epoch times U * G. The chunk and the
  // reuse index follow: step = cursor / (U * G), chunk = step / mu, reuse = step % mu.
  using State = dist::ShardedSampler::State;

  // num_examples training examples; per_device_batch = train.batch_size, grad_accum =
  // train.grad_accum; world ranks, this is rank; seed = the run seed. Checks the batch arithmetic
  // (validate_batch) and that one chunk fits the data (core::ConfigError otherwise).
  PromptGroups(int64_t num_examples, const GrpoConfig& cfg, int64_t per_device_batch, int64_t grad_accum, int world,
               int rank, uint64_t seed);

  // This rank's rows of the next optimizer step; advances the state.
  PromptStep next_step();

  State state() const { return state_; }
  // Continues exactly after the step the state was taken at (also mid-mu-cycle). core::FormatError
  // when the state does not fit this data set and batch layout.
  void restore(const State& s);

  int64_t unique_prompts() const { return unique_; }          // U
  int64_t rows_per_step() const { return unique_ * group_; }  // U * G = W * per_device * GA
  int64_t chunks_per_epoch() const { return chunks_; }        // floor(N / U)
  int64_t steps_per_epoch() const { return chunks_ * mu_; }
  // The permutation of an epoch (tests, tools).
  std::vector<int64_t> permutation(int64_t epoch) const { return order_.permutation(epoch); }

 private:
  const std::vector<int64_t>& perm(int64_t epoch);

  int64_t size_, group_, mu_, per_device_, grad_accum_;
  int world_, rank_;
  int64_t unique_ = 0, chunks_ = 0;
  dist::ShardedSampler order_;  // only its permutation(): one rank-0 stream per epoch
  State state_;
  int64_t perm_epoch_ = -1;
  std::vector<int64_t> perm_;
};

}  // namespace mdrl::rl
