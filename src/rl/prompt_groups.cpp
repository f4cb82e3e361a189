// Prompt groups, spec algorithms.md §2.0 step 3 (prompt_groups.hpp): TRL's RepeatRandomSampler
// (per-epoch permutation, chunks of U reused mu times, G copies of each prompt) followed by
// Accelerate's round-robin of per_device micro-batches over the ranks.
#include "rl/prompt_groups.hpp"

#include <string>

#include "core/error.hpp"

namespace mdrl::rl {
namespace {
std::string num(int64_t v) {
  return std::to_string(v);
}
}  // namespace

PromptGroups::PromptGroups(int64_t num_examples, const GrpoConfig& cfg, int64_t per_device_batch, int64_t grad_accum,
                           int world, int rank, uint64_t seed)
    : size_(num_examples),
      group_(cfg.num_generations),
      mu_(cfg.num_iterations),
      per_device_(per_device_batch),
      grad_accum_(grad_accum),
      world_(world),
      rank_(rank),
      order_(num_examples, 1, 0, seed) {
  MDRL_CHECK(world >= 1 && rank >= 0 && rank < world, core::InternalError, "PromptGroups: bad rank/world");
  MDRL_CHECK(mu_ >= 1, core::ConfigError, "grpo.num_iterations = " + num(mu_) + "; use 1 or more");
  validate_batch(cfg, per_device_batch, world, grad_accum);
  unique_ = unique_prompts_per_step(cfg, per_device_batch, world, grad_accum);
  MDRL_CHECK(unique_ <= size_, core::ConfigError,
             "an optimizer step needs " + num(unique_) + " unique prompts (train.batch_size " + num(per_device_batch) +
                 " x " + num(world) + " ranks x train.grad_accum " + num(grad_accum) + " / grpo.num_generations " +
                 num(group_) + ") but the task has only " + num(size_) +
                 " training examples; use a smaller batch, fewer ranks or more examples");
  chunks_ = size_ / unique_;
}

const std::vector<int64_t>& PromptGroups::perm(int64_t epoch) {
  if (perm_epoch_ != epoch) {
    perm_ = order_.permutation(epoch);
    perm_epoch_ = epoch;
  }
  return perm_;
}

PromptStep PromptGroups::next_step() {
  const int64_t rows = rows_per_step();
  // The epoch's stream holds chunks_ * mu_ steps; after the last one a new epoch starts.
  if (state_.cursor + rows > steps_per_epoch() * rows) {
    ++state_.epoch;
    state_.cursor = 0;
  }
  const int64_t step = state_.cursor / rows;
  PromptStep out;
  out.epoch = state_.epoch;
  out.chunk = step / mu_;
  out.reuse = step % mu_;
  out.fresh = out.reuse == 0;
  out.rollout = state_.epoch * chunks_ + out.chunk;
  const auto& p = perm(state_.epoch);
  const int64_t first = out.chunk * unique_;  // the chunk's first place in the permutation
  const int64_t global_micro = static_cast<int64_t>(world_) * per_device_;
  out.micro_batches.resize(static_cast<size_t>(grad_accum_));
  for (int64_t k = 0; k < grad_accum_; ++k) {
    auto& mb = out.micro_batches[static_cast<size_t>(k)];
    mb.reserve(static_cast<size_t>(per_device_));
    const int64_t begin = k * global_micro + rank_ * per_device_;  // row in the step's U * G rows
    for (int64_t q = begin; q < begin + per_device_; ++q) {
      const int64_t j = q / group_;  // the prompt's place in the chunk
      mb.push_back({p[static_cast<size_t>(first + j)], out.rollout * unique_ + j});
    }
  }
  state_.cursor += rows;
  return out;
}

void PromptGroups::restore(const State& s) {
  const int64_t rows = rows_per_step();
  MDRL_CHECK(
      s.epoch >= 0 && s.cursor >= 0 && s.cursor % rows == 0 && s.cursor <= steps_per_epoch() * rows, core::FormatError,
      "prompt-group state (epoch " + num(s.epoch) + ", cursor " + num(s.cursor) + ") does not fit " + num(size_) +
          " training examples with " + num(rows) + " completions per optimizer step and grpo.num_iterations " +
          num(mu_) + "; were the data, the batch layout, grpo.num_generations or grpo.num_iterations changed?");
  state_ = s;
}

}  // namespace mdrl::rl
