// Rollouts of the GRPO family (spec algorithms.md §2.0 steps 5-8): training prompts rendered with
// the chat template (user turn + assistant header, no prefill) and encoded, left-truncated to
// the last grpo.max_prompt_length tokens and left-padded with the pad id; decode::generate with its
// trace in chunks of grpo.generation_batch_size rows (all chunks padded to one prompt width, so
// they concatenate and a row decodes the same whichever chunk holds it); the completion mask up
// to and including the first EOS; texts = the whole completion detokenised without special tokens
// (like the reference, text after the first EOS is kept); one reward column per task component
// (unweighted) and their weighted sum with NaN counted as 0 (nansum).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "decode/decode_config.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "rl/grpo_config.hpp"
#include "rl/prompt_groups.hpp"
#include "rl/rollout_batch.hpp"

namespace mdrl::tokenizer {
class Tokenizer;
struct ChatTemplate;
}  // namespace mdrl::tokenizer
namespace mdrl::tasks {
class Task;
struct Example;
struct TasksConfig;
}  // namespace mdrl::tasks

namespace mdrl::rl {

// What a rollout needs; everything is borrowed. The caller puts the model in the mode it wants
// (grpo.rollout_dropout) beforehand.
struct RolloutInputs {
  decode::Denoiser& denoiser;
  const tokenizer::Tokenizer& tokenizer;
  const tokenizer::ChatTemplate& chat;
  const tasks::Task& task;
  const std::vector<tasks::Example>& examples;  // the task's training examples (PromptRow::example indexes them)
  const tasks::TasksConfig& tasks_cfg;          // reward variants
  const decode::DecodeConfig& decode_cfg;
  const decode::DecodePlan& plan;  // decode::make_plan(decode_cfg)
  const GrpoConfig& grpo;          // max_prompt_length, generation_batch_size
  at::Generator& gen;              // sampling noise (the rank's Sampling stream)
  // The user turn of an example's prompt; empty = the task's training prompt (spec §6.1). Set to
  // the bare question for a model trained on such prompts (rl.prompt_style = bare).
  std::function<std::string(const tasks::Example&)> content = {};
};

// The token ids of an example's training prompt (chat template, PromptForm::Chat), unpadded and
// not truncated.
std::vector<int64_t> encode_train_prompt(const RolloutInputs& in, const tasks::Example& ex);

// The last `max_length` tokens of `ids` (spec §2.0 step 5: `prompt_ids[:, -max_length:]`); all of
// them when max_length is 0 or the prompt is shorter.
std::vector<int64_t> left_truncate(std::vector<int64_t> ids, int64_t max_length);

// completion: [B, L] integer, any device. Returns [B, L] f32 on the CPU: 1 at positions up to and
// including the first `eos_id` of the row, 0 after it; all ones for a row without EOS (spec §2.0
// step 7).
torch::Tensor completion_mask(const torch::Tensor& completion, int64_t eos_id);

// One rollout of `rows` (whole groups of G consecutive rows, as PromptGroups hands them out): the
// rollout part of RolloutBatch (prompt_ids, prompt_mask, completion, completion_mask, trace,
// decode_steps, texts, example, group, rewards, reward, seconds, forwards), on the CPU. Runs
// without grad. Advantages and log-probs are left to rl/group_advantage and the algorithm.
RolloutBatch rollout(const RolloutInputs& in, const std::vector<PromptRow>& rows);

}  // namespace mdrl::rl
