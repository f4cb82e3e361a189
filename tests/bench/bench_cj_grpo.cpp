// Benchmark (label bench): CJ-GRPO's training micro-batch (spec algorithms.md §2.3, §2.5) on CPU.
//
// Part 1, memory in S: peak memory and time of one micro-batch (loss forward + backward) for
// S = 8, 32, 64, 128 decoding steps at one gen length L, for
//   per_step     mdrl's formulation (rl::CjGrpo::loss_and_backward): forward on x_i, backward of
//                that step's share, next step; one step's activations alive at a time;
//   all_at_once  the reference's: every step's graph kept until one backward of the sum (kept only
//                here, built from the same rl::cj_step_logprobs / cj_step_objective).
// Each (form, S) runs in a forked child, so every peak is its own: the child builds the model and a
// trajectory (prompt and completion tokens drawn at random, L / S positions unmasked per step in a
// random order), runs one warm-up step forward, then resets the peak RSS (/proc/self/clear_refs)
// and measures; "peak_mb" = VmHWM - VmRSS just before the micro-batch: the memory the micro-batch
// itself needs on top of the model. Activation checkpointing is on (the cj-grpo default) in both
// forms, as in the reference. The figure of merit is peak(S=max) / peak(S=min) of per_step (issue
// target <= 1.1), beside the same ratio of all_at_once. An all_at_once S whose extrapolated peak
// exceeds 60% of MemAvailable is skipped (recorded with its predicted peak) rather than run out of
// memory.
//
// Part 2, rollout + training per micro-batch for EOSER+ASS (S = floor(log2 L)) vs semi-AR
// (blocks of 32, S = L / 2): real rollouts by decode::generate on the same model and prompts, then
// the per-step training micro-batch on their trajectories; the seconds of each and the ratio.
//
// Environment: MDRL_BENCH_PRESET (default llada-100m), MDRL_BENCH_GEN (L, default 128),
// MDRL_BENCH_STEPS (default 8,32,64,128), MDRL_BENCH_BATCH (rows, default 2), MDRL_BENCH_PROMPT
// (prompt tokens, default 32), MDRL_BENCH_FORMS (default per_step,all_at_once), MDRL_BENCH_PART2
// (0 skips part 2), MDRL_BENCH_THREADS (intra-op threads, default: torch's). LoRA rank 8 on the
// attention and MLP projections (the RL setting), f32. One JSON object on stdout, progress on stderr.
#include <ATen/CPUGeneratorImpl.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "decode/decode_plan.hpp"
#include "decode/denoiser.hpp"
#include "decode/generate.hpp"
#include "model/llada.hpp"
#include "rl/cj_grpo.hpp"
#include "rl/rollout.hpp"

using namespace mdrl;
using nlohmann::json;

namespace {

struct Setup {
  std::string preset = "llada-100m";
  int64_t L = 128, B = 2, P = 32;
  int threads = 0;
};

// VmRSS / VmHWM of this process in MiB.
double status_mb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  return -1;
}
double mem_available_mb() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("MemAvailable:", 0) == 0) return std::stod(line.substr(13)) / 1024.0;
  return 0;
}
bool reset_peak() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f.flush());
}

model::LladaModel make_policy(const Setup& s) {
  model::LladaModel m(model::preset(s.preset), 7);
  // Training mode, as the cj-grpo loop trains (activation checkpointing acts only in training
  // mode); the presets' dropout is 0, so the network stays deterministic.
  m->train();
  model::LoraSettings l;
  l.rank = 8, l.alpha = 16, l.dropout = 0.0;
  l.targets = {"q_proj", "k_proj", "v_proj", "attn_out", "ff_proj", "up_proj", "ff_out"};
  m->add_lora(l, 3);
  torch::NoGradGuard g;
  for (auto& p : m->trainable_parameters()) p.normal_(0, 0.02);
  m->set_activation_checkpointing(true);
  return m;
}

rl::GrpoConfig cj_config() {
  rl::GrpoConfig c;
  c.num_iterations = 1;  // old = the current policy detached (ratio 1), as a first iteration
  c.beta = 0.0;
  return c;
}

// A trajectory of S steps over L positions: random tokens, L / S positions per step in a random order.
rl::RolloutBatch synthetic_batch(const Setup& s, const model::LladaConfig& mc, int64_t S) {
  torch::manual_seed(11);
  rl::RolloutBatch b;
  const int64_t V = mc.vocab_size;
  b.prompt_ids = torch::randint(0, std::min<int64_t>(V, mc.mask_token_id), {s.B, s.P}, torch::kLong);
  b.prompt_mask = torch::ones({s.B, s.P}, torch::kBool);
  b.completion = torch::randint(0, std::min<int64_t>(V, mc.mask_token_id), {s.B, s.L}, torch::kLong);
  b.completion_mask = torch::ones({s.B, s.L}, torch::kFloat);
  auto step_map = torch::empty({s.B, s.L}, torch::kLong);
  for (int64_t r = 0; r < s.B; ++r) {
    const auto perm = torch::randperm(s.L, torch::kLong);
    const auto steps = torch::div(torch::arange(s.L, torch::kLong) * S, s.L, "floor");
    step_map[r].index_put_({perm}, steps);
  }
  b.trace.step_map = step_map;
  b.trace.confidence = torch::rand({s.B, s.L});
  b.decode_steps = S;
  b.advantages = torch::linspace(-1, 1, s.B);
  for (int64_t r = 0; r < s.B; ++r) b.group.push_back(r / 2);
  return b;
}

// One training micro-batch in `form`; returns its loss.
double train_micro_batch(const std::string& form, model::LladaModel& net, const rl::RolloutBatch& b, int64_t mask_id) {
  const auto cfg = cj_config();
  const rl::Policies nets{net.get(), nullptr, mask_id, false};
  if (form == "per_step") {
    rl::CjGrpo algo(cfg);
    return algo.loss_and_backward(nets, b, 0, 0, 1.0).loss;
  }
  const auto attn = torch::cat({b.prompt_mask, torch::ones_like(b.completion).to(torch::kBool)}, 1);
  const auto unmasked = rl::cj_unmasked_per_step(b);
  torch::Tensor total = torch::zeros({});
  for (int64_t i = 0; i < b.decode_steps; ++i) {
    const auto lp = rl::cj_step_logprobs(*net, b, i, attn, mask_id);
    total = total + rl::cj_step_objective(cfg, b, i, unmasked, lp, {}, {}).loss;
  }
  total.backward();
  return total.item<double>();
}

json memory_row(const Setup& s, const std::string& form, int64_t S) {
  if (s.threads > 0) torch::set_num_threads(s.threads);
  auto net = make_policy(s);
  const auto& mc = model::preset(s.preset);
  const auto b = synthetic_batch(s, mc, S);
  {  // warm-up: thread pools and allocator caches, outside the measurement
    torch::NoGradGuard ng;
    const auto attn = torch::cat({b.prompt_mask, torch::ones_like(b.completion).to(torch::kBool)}, 1);
    (void)rl::cj_step_logprobs(*net, b, 0, attn, mc.mask_token_id);
  }
  const double before = status_mb("VmRSS");
  const bool reset = reset_peak();
  const auto t0 = std::chrono::steady_clock::now();
  const double loss = train_micro_batch(form, net, b, mc.mask_token_id);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double hwm = status_mb("VmHWM");
  return {{"form", form},       {"S", S},
          {"seconds", secs},    {"seconds_per_step", secs / static_cast<double>(S)},
          {"rss_before_mb", before}, {"peak_mb", hwm - before},
          {"peak_reset", reset}, {"loss", loss}};
}

// Runs fn in a forked child and returns the JSON it wrote to the pipe.
json in_child(const std::function<json()>& fn) {
  int fd[2];
  if (pipe(fd) != 0) return {{"error", "pipe failed"}};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    std::string out;
    try {
      out = fn().dump();
    } catch (const std::exception& e) {
      out = json{{"error", bench::first_line(e.what())}}.dump();
    }
    size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fd[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd[1]);
    _exit(0);
  }
  close(fd[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (text.empty()) return {{"error", "child ended with status " + std::to_string(status)}};
  return json::parse(text);
}

// Part 2: a real rollout of `cfg` and the per-step training micro-batch on it.
json rollout_and_train(const Setup& s, const std::string& name, decode::DecodeConfig cfg) {
  if (s.threads > 0) torch::set_num_threads(s.threads);
  auto net = make_policy(s);
  const auto& mc = model::preset(s.preset);
  cfg.gen_length = s.L;
  cfg.temperature = 1.0;
  cfg.record_logp = true;
  const auto plan = decode::make_plan(cfg);
  torch::manual_seed(3);
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t r = 0; r < s.B; ++r) {
    const auto t = torch::randint(0, mc.mask_token_id, {s.P}, torch::kLong);
    prompts.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + s.P);
  }
  const auto pb = decode::left_pad(prompts, mc.pad_token_id);
  rl::RolloutBatch b;
  const auto t0 = std::chrono::steady_clock::now();
  {
    torch::NoGradGuard ng;
    decode::LladaDenoiser den(net);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
    const auto r = decode::generate(den, pb, cfg, plan, gen);
    b.prompt_ids = pb.ids;
    b.prompt_mask = pb.mask;
    b.completion = r.completion.contiguous();
    b.completion_mask = rl::completion_mask(b.completion, mc.eos_token_id);
    b.trace = r.trace;
    b.decode_steps = plan.num_steps();
  }
  const double rollout_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  b.advantages = torch::linspace(-1, 1, s.B);
  for (int64_t r = 0; r < s.B; ++r) b.group.push_back(r / 2);
  const auto t1 = std::chrono::steady_clock::now();
  (void)train_micro_batch("per_step", net, b, mc.mask_token_id);
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return {{"decoding", name},         {"S", b.decode_steps},     {"rollout_s", rollout_s},
          {"train_s", train_s},       {"total_s", rollout_s + train_s}};
}

}  // namespace

int main() {
  Setup s;
  s.preset = bench::env_or("MDRL_BENCH_PRESET", s.preset);
  s.L = std::stoll(bench::env_or("MDRL_BENCH_GEN", "128"));
  s.B = std::stoll(bench::env_or("MDRL_BENCH_BATCH", "2"));
  s.P = std::stoll(bench::env_or("MDRL_BENCH_PROMPT", "32"));
  s.threads = std::stoi(bench::env_or("MDRL_BENCH_THREADS", "0"));
  const auto steps = bench::split(bench::env_or("MDRL_BENCH_STEPS", "8,32,64,128"), ',');
  const auto forms = bench::split(bench::env_or("MDRL_BENCH_FORMS", "per_step,all_at_once"), ',');
  const double busy = bench::cpu_busy(1.0);

  json out = {{"benchmark", "cj_grpo"},
              {"preset", s.preset},
              {"gen_length", s.L},
              {"batch", s.B},
              {"prompt_tokens", s.P},
              {"lora_rank", 8},
              {"activation_checkpointing", true},
              {"cpu_busy_before", busy},
              {"memory", json::array()}};
  if (busy > 0.2) out["warning"] = "other processes kept the CPUs busy; timings are noisy";
  bool ok = true;
  for (const auto& form : forms) {
    double first = -1, last = -1;
    int64_t s_first = 0, s_last = 0;
    for (const auto& st : steps) {
      const int64_t S = std::stoll(st);
      // The all-at-once graph grows with S: skip what would not fit in 60% of the free memory
      // (extrapolated from the last measured S), and say so.
      if (form == "all_at_once" && last > 0 && s_last > 0) {
        const double predicted = last / static_cast<double>(s_last) * static_cast<double>(S);
        const double avail = mem_available_mb();
        if (predicted > 0.6 * avail) {
          out["memory"].push_back({{"form", form},
                                   {"S", S},
                                   {"skipped", "would need about " + std::to_string(static_cast<int64_t>(predicted)) +
                                                   " MiB (extrapolated); " + std::to_string(static_cast<int64_t>(avail)) +
                                                   " MiB available"},
                                   {"predicted_peak_mb", predicted}});
          continue;
        }
      }
      std::fprintf(stderr, "bench_cj_grpo: %s S=%lld ...\n", form.c_str(), static_cast<long long>(S));
      json row = in_child([&] { return memory_row(s, form, S); });
      std::fprintf(stderr, "  %s\n", row.dump().c_str());
      if (row.contains("error")) {
        ok = false;
      } else {
        if (first < 0) first = row["peak_mb"], s_first = S;
        last = row["peak_mb"], s_last = S;
      }
      out["memory"].push_back(row);
    }
    if (first > 0)
      out["peak_ratio"][form] = {{"S_max", s_last}, {"S_min", s_first}, {"ratio", last / first}};
  }
  if (bench::env_or("MDRL_BENCH_PART2", "1") != "0") {
    decode::DecodeConfig ea;
    ea.schedule = decode::Schedule::Ass;
    ea.block_num = 1;
    ea.eoser = true;
    ea.gamma_min = 0.01;
    ea.steps = decode::floor_log2(s.L);
    decode::DecodeConfig semi;
    semi.schedule = decode::Schedule::SemiAr;
    semi.block_length = std::min<int64_t>(32, s.L);
    semi.steps = s.L / 2;
    out["per_micro_batch"] = json::array();
    double t_ea = 0, t_semi = 0;
    for (const auto& [name, cfg] : {std::pair<std::string, decode::DecodeConfig>{"eoser_ass", ea}, {"semi_ar", semi}}) {
      std::fprintf(stderr, "bench_cj_grpo: rollout + training, %s ...\n", name.c_str());
      json row = in_child([&] { return rollout_and_train(s, name, cfg); });
      std::fprintf(stderr, "  %s\n", row.dump().c_str());
      if (row.contains("error")) ok = false;
      else (name == "eoser_ass" ? t_ea : t_semi) = row["total_s"];
      out["per_micro_batch"].push_back(row);
    }
    if (t_ea > 0 && t_semi > 0) out["semi_ar_over_eoser_ass_time"] = t_semi / t_ea;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return ok ? 0 : 1;
}
