// Decoding prompts across ranks and scoring them (task_decode.hpp).
#include "eval/task_decode.hpp"

#include <torch/torch.h>

#include <cstdio>
#include <map>

#include "core/fault_injection.hpp"
#include "core/log.hpp"
#include "dist/collectives_mpi.hpp"
#include "tasks/task.hpp"
#include "tokenizer/tokenizer.hpp"

namespace mdrl::eval {

std::vector<Completion> decode_share(int rank, int world, decode::Denoiser& denoiser, const tokenizer::Tokenizer& tok,
                                     const std::vector<std::vector<int64_t>>& prompts, const DecodeJob& job,
                                     at::Generator& gen, DecodeStats* stats, const BatchSink& sink) {
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < prompts.size(); i += static_cast<size_t>(world)) mine.push_back(i);
  const size_t batch = job.batch_size > 0 ? static_cast<size_t>(job.batch_size) : std::max<size_t>(1, mine.size());
  const auto eos = job.cfg.eos_set(denoiser.eos_id());
  std::vector<Completion> out;
  out.reserve(mine.size());
  for (size_t start = 0; start < mine.size(); start += batch) {
    core::fault::at(core::fault::Point::Batch, rank);  // MDRL_FAULT (dead-rank tests); nothing when unset
    const size_t end = std::min(mine.size(), start + batch);
    std::vector<std::vector<int64_t>> ids;
    for (size_t i = start; i < end; ++i) ids.push_back(prompts[mine[i]]);
    const auto padded = decode::left_pad(ids, denoiser.pad_id(), denoiser.device());
    const auto r = decode::generate(denoiser, padded, job.cfg, job.plan, gen, job.observer);
    core::log::debug() << "decoded a batch of " << ids.size() << ": " << r.forwards << " forwards, " << r.seconds_total
                       << " s (" << r.seconds_model << " s in the model)";
    if (stats != nullptr) {
      stats->forwards += r.forwards;
      stats->seconds += r.seconds_total;
      stats->seconds_model += r.seconds_model;
    }
    if (sink) sink(std::vector<size_t>(mine.begin() + static_cast<long>(start), mine.begin() + static_cast<long>(end)),
                   padded, r);
    auto completions = decode::completion_ids(r.completion, eos);
    for (size_t i = start; i < end; ++i) {
      Completion c;
      c.index = mine[i];
      c.ids = std::move(completions[i - start]);
      c.text = tok.decode(c.ids, job.skip_special);
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<std::string> gather_texts(MPI_Comm comm, const std::vector<Completion>& mine, size_t n, int root) {
  // "index length\n" + text per completion (texts may hold any bytes, newlines included).
  std::string records;
  for (const auto& c : mine) records += std::to_string(c.index) + " " + std::to_string(c.text.size()) + "\n" + c.text;
  const auto all = dist::gather_strings(comm, records, root);
  std::vector<std::string> texts;
  if (all.empty()) return texts;
  texts.resize(n);
  for (const auto& rec : all) {
    size_t at = 0;
    while (at < rec.size()) {
      const size_t nl = rec.find('\n', at);
      size_t index = 0, length = 0;
      std::sscanf(rec.c_str() + at, "%zu %zu", &index, &length);
      if (index < n) texts[index] = rec.substr(nl + 1, length);
      at = nl + 1 + length;
    }
  }
  return texts;
}

TaskScore score_completions(const tasks::Task& task, const std::vector<Completion>& completions,
                            const std::function<const tasks::Example&(size_t index)>& example_of) {
  TaskScore s;
  for (const auto& c : completions) {
    const auto score = task.evaluate(c.text, example_of(c.index));
    s.correct += score.correct;
    s.total += score.total;
    s.solved += score.total > 0 && score.correct == score.total ? 1 : 0;
    s.decoded += 1;
  }
  return s;
}

io::TrajectoryBatch trace_batch(int64_t step,
                                const std::vector<std::pair<decode::PromptBatch, decode::DecodeResult>>& parts,
                                const std::vector<int64_t>& group, const std::vector<double>& reward, int64_t pad_id,
                                const std::string& decoding) {
  io::TrajectoryBatch b;
  b.step = step;
  b.decoding = decoding;
  if (parts.empty()) return b;
  int64_t P = 0;
  for (const auto& [p, r] : parts) P = std::max(P, p.ids.size(1));
  std::vector<torch::Tensor> pid, pm, comp, sm, conf;
  for (const auto& [p, r] : parts) {
    const int64_t extra = P - p.ids.size(1);
    const auto cpu_ids = p.ids.to(torch::kCPU), cpu_mask = p.mask.to(torch::kCPU);
    pid.push_back(torch::cat({torch::full({p.ids.size(0), extra}, pad_id, torch::kLong), cpu_ids}, 1));
    pm.push_back(torch::cat({torch::zeros({p.ids.size(0), extra}, torch::kBool), cpu_mask}, 1));
    comp.push_back(r.completion.to(torch::kCPU));
    sm.push_back(r.trace.step_map.to(torch::kCPU));
    conf.push_back(r.trace.confidence.to(torch::kCPU).to(torch::kFloat));
  }
  b.prompt_ids = torch::cat(pid);
  b.prompt_mask = torch::cat(pm);
  b.completion_ids = torch::cat(comp);
  b.step_map = torch::cat(sm);
  b.confidence = torch::cat(conf);
  const int64_t B = b.prompt_ids.size(0);
  b.reward = torch::tensor(reward, torch::kDouble).to(torch::kFloat);
  b.rewards = b.reward.view({B, 1});
  b.advantage = torch::zeros({B}, torch::kFloat);
  b.group_id = torch::tensor(group, torch::kLong);
  return b;
}

}  // namespace mdrl::eval
