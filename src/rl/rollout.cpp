// Rollouts, spec algorithms.md §2.0 steps 5-8 (rollout.hpp).
#include "rl/rollout.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/log.hpp"
#include "decode/generate.hpp"
#include "tasks/task.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

namespace mdrl::rl {
namespace {

// The chunks' traces stacked along the rows.
decode::Trace cat_traces(const std::vector<decode::Trace>& parts) {
  if (parts.size() == 1) return parts.front();
  std::vector<torch::Tensor> step_map, confidence, step_counts, eos_counts, logp;
  for (const auto& t : parts) {
    step_map.push_back(t.step_map);
    confidence.push_back(t.confidence);
    step_counts.push_back(t.step_counts);
    if (t.eos_counts.defined()) eos_counts.push_back(t.eos_counts);
    if (t.logp.defined()) logp.push_back(t.logp);
  }
  decode::Trace out;
  out.step_map = torch::cat(step_map, 0);
  out.confidence = torch::cat(confidence, 0);
  out.step_counts = torch::cat(step_counts, 0);
  if (eos_counts.size() == parts.size()) out.eos_counts = torch::cat(eos_counts, 0);
  if (logp.size() == parts.size()) out.logp = torch::cat(logp, 0);
  return out;
}

decode::Trace to_cpu(const decode::Trace& t) {
  decode::Trace out;
  out.step_map = t.step_map.to(torch::kCPU);
  out.confidence = t.confidence.to(torch::kCPU);
  out.step_counts = t.step_counts.to(torch::kCPU);
  if (t.eos_counts.defined()) out.eos_counts = t.eos_counts.to(torch::kCPU);
  if (t.logp.defined()) out.logp = t.logp.to(torch::kCPU);
  return out;
}

}  // namespace

std::vector<int64_t> encode_train_prompt(const RolloutInputs& in, const tasks::Example& ex) {
  // TRL: maybe_apply_chat_template, then the tokenizer without special tokens (spec §2.0 step 5).
  const std::string text = in.content ? in.chat.render_user(in.content(ex), tokenizer::PromptForm::Chat)
                                       : in.task.train_prompt(ex, in.chat);
  const auto ids = in.tokenizer.encode(text, false);
  return {ids.begin(), ids.end()};
}

std::vector<int64_t> left_truncate(std::vector<int64_t> ids, int64_t max_length) {
  if (max_length > 0 && static_cast<int64_t>(ids.size()) > max_length) ids.erase(ids.begin(), ids.end() - max_length);
  return ids;
}

torch::Tensor completion_mask(const torch::Tensor& completion, int64_t eos_id) {
  // completion: [B, L] integer
  MDRL_CHECK(completion.dim() == 2, core::InternalError,
             "completion_mask: completion must be [B, L], got " + std::to_string(completion.dim()) + " dimensions");
  const auto c = completion.to(torch::kCPU, torch::kLong);
  const int64_t L = c.size(1);
  const auto is_eos = c.eq(eos_id);  // [B, L]
  // argmax over a 0/1 row is the first 1; rows without EOS keep every position.
  const auto first =
      torch::where(is_eos.any(1), is_eos.to(torch::kByte).argmax(1), torch::full({c.size(0)}, L, torch::kLong));
  return torch::arange(L, torch::kLong).unsqueeze(0).le(first.unsqueeze(1)).to(torch::kFloat);
}

RolloutBatch rollout(const RolloutInputs& in, const std::vector<PromptRow>& rows) {
  MDRL_CHECK(!rows.empty(), core::InternalError, "rollout: no rows");
  torch::NoGradGuard no_grad;
  const auto B = static_cast<int64_t>(rows.size());
  const auto n_examples = static_cast<int64_t>(in.examples.size());

  // Prompts: each distinct example encoded once (a group's G rows share it).
  std::map<int64_t, std::vector<int64_t>> encoded;
  std::vector<std::vector<int64_t>> prompts;
  prompts.reserve(rows.size());
  for (const auto& r : rows) {
    MDRL_CHECK(r.example >= 0 && r.example < n_examples, core::InternalError,
               "rollout: example " + std::to_string(r.example) + " outside the " + std::to_string(n_examples) +
                   " training examples");
    auto it = encoded.find(r.example);
    if (it == encoded.end())
      it = encoded
               .emplace(r.example, left_truncate(encode_train_prompt(in, in.examples[static_cast<size_t>(r.example)]),
                                                 in.grpo.max_prompt_length))
               .first;
    prompts.push_back(it->second);
  }
  // One width P for every chunk, so the chunks' tensors concatenate and a row's input does not
  // depend on which chunk it is decoded in.
  const decode::PromptBatch all = decode::left_pad(prompts, in.denoiser.pad_id());

  const int64_t chunk = in.grpo.generation_batch_size > 0 ? in.grpo.generation_batch_size : B;
  std::vector<torch::Tensor> completions;
  std::vector<decode::Trace> traces;
  RolloutBatch out;
  for (int64_t begin = 0; begin < B; begin += chunk) {
    const int64_t n = std::min(chunk, B - begin);
    decode::PromptBatch part{all.ids.narrow(0, begin, n), all.mask.narrow(0, begin, n)};
    auto r = decode::generate(in.denoiser, part, in.decode_cfg, in.plan, in.gen);
    completions.push_back(r.completion.to(torch::kCPU).contiguous());
    traces.push_back(to_cpu(r.trace));
    out.forwards += r.forwards;
    out.seconds += r.seconds_total;
  }
  core::log::debug() << "rollout of " << B << " rows: " << out.forwards << " forwards, " << out.seconds << " s";

  out.prompt_ids = all.ids;
  out.prompt_mask = all.mask;
  out.completion = completions.size() == 1 ? completions.front() : torch::cat(completions, 0);
  out.completion_mask = completion_mask(out.completion, in.denoiser.eos_id());
  out.trace = cat_traces(traces);
  out.decode_steps = in.plan.num_steps();

  // Texts: the whole completion without special tokens (spec §2.0 step 8: text after the first EOS
  // is kept, as TRL's batch_decode does).
  const int64_t L = out.completion.size(1);
  const auto c = out.completion.to(torch::kLong).contiguous();
  const auto a = c.accessor<int64_t, 2>();
  out.texts.reserve(rows.size());
  std::vector<tokenizer::TokenId> ids(static_cast<size_t>(L));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < L; ++j) ids[static_cast<size_t>(j)] = static_cast<tokenizer::TokenId>(a[b][j]);
    out.texts.push_back(in.tokenizer.decode(ids, true));
  }

  // Rewards: each component on each text (None -> NaN in the reference), then TRL's
  // nansum_k(w_k * r_k) in f32.
  const auto components = in.task.rewards(in.tasks_cfg);
  const auto K = static_cast<int64_t>(components.size());
  MDRL_CHECK(K > 0, core::InternalError, "rollout: task " + in.task.name() + " has no reward components");
  out.rewards = torch::empty({B, K}, torch::kFloat);
  auto ra = out.rewards.accessor<float, 2>();
  std::vector<float> weights;
  for (const auto& comp : components) weights.push_back(static_cast<float>(comp.weight));
  for (int64_t b = 0; b < B; ++b) {
    const auto& ex = in.examples[static_cast<size_t>(rows[static_cast<size_t>(b)].example)];
    for (int64_t k = 0; k < K; ++k)
      ra[b][k] = static_cast<float>(components[static_cast<size_t>(k)].fn(out.texts[static_cast<size_t>(b)], ex));
  }
  out.reward = (out.rewards * torch::tensor(weights, torch::kFloat).unsqueeze(0)).nansum(1);

  out.example.reserve(rows.size());
  out.group.reserve(rows.size());
  for (const auto& r : rows) {
    out.example.push_back(r.example);
    out.group.push_back(r.group);
  }
  return out;
}

}  // namespace mdrl::rl
