// Rollout buffers beside checkpoints (rollout_buffer.hpp).
#include "rl/rollout_buffer.hpp"

#include <torch/torch.h>

#include <filesystem>
#include <regex>

#include "core/error.hpp"
#include "io/safetensors.hpp"

namespace mdrl::rl {
namespace fs = std::filesystem;

std::string rollout_buffer_path(const std::string& checkpoint_dir, int64_t step, int rank) {
  return (fs::path(checkpoint_dir) / ("step_" + std::to_string(step) + ".rollouts.r" + std::to_string(rank) +
                                      ".safetensors"))
      .string();
}

namespace {
void put(io::NamedTensorList& out, const std::string& name, const torch::Tensor& t) {
  if (!t.defined()) return;
  // bool has no portable safetensors dtype here: store 0/1 bytes.
  out.emplace_back(name, t.scalar_type() == torch::kBool ? t.to(torch::kUInt8) : t.contiguous());
}
torch::Tensor i64(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong); }
}  // namespace

void save_rollout_buffer(const std::string& path, const std::vector<RolloutBatch>& buffer) {
  io::NamedTensorList t;
  for (size_t k = 0; k < buffer.size(); ++k) {
    const auto& b = buffer[k];
    const std::string p = std::to_string(k) + "/";
    put(t, p + "prompt_ids", b.prompt_ids);
    put(t, p + "prompt_mask", b.prompt_mask);
    put(t, p + "completion", b.completion);
    put(t, p + "completion_mask", b.completion_mask);
    put(t, p + "step_map", b.trace.step_map);
    put(t, p + "confidence", b.trace.confidence);
    put(t, p + "step_counts", b.trace.step_counts);
    put(t, p + "rewards", b.rewards);
    put(t, p + "reward", b.reward);
    put(t, p + "advantages", b.advantages);
    put(t, p + "old_logp", b.old_logp);
    put(t, p + "ref_logp", b.ref_logp);
    put(t, p + "example", i64(b.example));
    put(t, p + "group", i64(b.group));
    std::vector<int64_t> seeds(b.mask_seeds.begin(), b.mask_seeds.end());  // bit pattern kept
    put(t, p + "mask_seeds", i64(seeds));
    put(t, p + "decode_steps", i64({b.decode_steps}));
  }
  io::write_safetensors(path, t, {{"format", "mdrl-rollout-buffer"}, {"micro_batches", std::to_string(buffer.size())}});
}

std::vector<RolloutBatch> load_rollout_buffer(const std::string& path) {
  io::SafetensorsFile f(path);
  const auto& meta = f.metadata();
  const auto it = meta.find("micro_batches");
  MDRL_CHECK(meta.count("format") && meta.at("format") == "mdrl-rollout-buffer" && it != meta.end(), core::FormatError,
             path + " is not an mdrl rollout buffer; delete it and its checkpoint to resume from an earlier one");
  const int64_t n = std::stoll(it->second);
  std::vector<RolloutBatch> out(static_cast<size_t>(n));
  auto get = [&](const std::string& name) { return f.contains(name) ? f.tensor(name).clone() : torch::Tensor(); };
  auto vec = [&](const std::string& name) {
    std::vector<int64_t> v;
    const auto t = get(name);
    if (t.defined()) v.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    return v;
  };
  for (int64_t k = 0; k < n; ++k) {
    auto& b = out[static_cast<size_t>(k)];
    const std::string p = std::to_string(k) + "/";
    b.prompt_ids = get(p + "prompt_ids");
    b.prompt_mask = get(p + "prompt_mask").to(torch::kBool);
    b.completion = get(p + "completion");
    b.completion_mask = get(p + "completion_mask");
    b.trace.step_map = get(p + "step_map");
    b.trace.confidence = get(p + "confidence");
    b.trace.step_counts = get(p + "step_counts");
    b.rewards = get(p + "rewards");
    b.reward = get(p + "reward");
    b.advantages = get(p + "advantages");
    b.old_logp = get(p + "old_logp");
    b.ref_logp = get(p + "ref_logp");
    b.example = vec(p + "example");
    b.group = vec(p + "group");
    for (const auto s : vec(p + "mask_seeds")) b.mask_seeds.push_back(static_cast<uint64_t>(s));
    const auto steps = vec(p + "decode_steps");
    b.decode_steps = steps.empty() ? 0 : steps[0];
    MDRL_CHECK(b.completion.defined() && b.prompt_ids.defined(), core::FormatError,
               path + ": micro-batch " + std::to_string(k) + " has no prompts or completions");
  }
  return out;
}

void prune_rollout_buffers(const std::string& checkpoint_dir, int rank) {
  const std::regex name("step_(\\d+)\\.rollouts\\.r" + std::to_string(rank) + "\\.safetensors");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(checkpoint_dir, ec)) {
    std::smatch m;
    const std::string file = e.path().filename().string();
    if (!std::regex_match(file, m, name)) continue;
    if (!fs::exists(fs::path(checkpoint_dir) / ("step_" + m[1].str() + ".h5"))) fs::remove(e.path(), ec);
  }
}

}  // namespace mdrl::rl
