// Benchmark (label bench): decode throughput on CPU for the "tiny" and "llada-100m" presets at
// L = 128 and 256, batch 1 and 8, semi-AR (blocks of 32, steps = L/2) vs EOSER + ASS (steps =
// log2 L, one block). Reports completion tokens/s, forward passes, and the overhead of the decode
// loop itself (wall time outside Denoiser::logits) as a fraction of the total; target < 10% at
// batch 8 for llada-100m. MDRL_BENCH_STEPS = n (default: all for tiny, 4 for llada-100m) times
// only the first n semi-AR steps and extrapolates tokens/s from the time per forward
// ("steps_timed" < "forwards"). Set OMP_NUM_THREADS on a shared machine: oversubscribed
// LibTorch threads slow everything down by an order of magnitude. MDRL_BENCH_PRESETS = a comma-separated subset of the presets.
// One JSON object on stdout.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "decode/decode_plan.hpp"
#include "decode/generate.hpp"
#include "model/llada.hpp"

using namespace mdrl;

namespace {
// The plan cut to its first `n` steps (0 = all): for timing a part of a long decode. The per-step
// work is unchanged up to the counts of a cut block's steps, which do not affect the cost.
decode::DecodePlan first_steps(decode::DecodePlan plan, int64_t n) {
  if (n <= 0 || n >= plan.num_steps()) return plan;
  plan.steps.resize(static_cast<size_t>(n));
  std::vector<decode::PlanBlock> kept;
  for (auto b : plan.blocks) {
    if (b.steps.front() >= n) break;
    while (b.steps.back() >= n) b.steps.pop_back();
    kept.push_back(b);
  }
  plan.blocks = kept;
  return plan;
}
}  // namespace

int main() {
  torch::NoGradGuard no_grad;
  const char* env_steps = std::getenv("MDRL_BENCH_STEPS");
  const std::string only = std::getenv("MDRL_BENCH_PRESETS") ? std::getenv("MDRL_BENCH_PRESETS") : "";
  std::string rows;
  for (const std::string preset : {"tiny", "llada-100m"}) {
    if (!only.empty() && ("," + only + ",").find("," + preset + ",") == std::string::npos) continue;
    model::LladaModel m(model::preset(preset), 0);
    m->eval();
    decode::LladaDenoiser den(m);
    const int64_t steps_cap = env_steps ? std::atoi(env_steps) : (preset == "tiny" ? 0 : 4);
    for (const int64_t L : {128, 256}) {
      for (const int64_t B : {1, 8}) {
        for (const bool ass : {false, true}) {
          decode::DecodeConfig cfg;
          cfg.gen_length = L;
          if (ass) {
            cfg.schedule = decode::Schedule::Ass, cfg.steps = decode::floor_log2(L), cfg.block_num = 1, cfg.eoser = true;
          } else {
            cfg.schedule = decode::Schedule::SemiAr, cfg.block_length = 32, cfg.steps = L / 2;
          }
          const auto full = decode::make_plan(cfg);
          const auto plan = first_steps(full, ass ? 0 : steps_cap);
          std::vector<std::vector<int64_t>> prompts;
          for (int64_t b = 0; b < B; ++b) prompts.push_back(std::vector<int64_t>(static_cast<size_t>(48 + 4 * b), 65 + b));
          const auto batch = decode::left_pad(prompts, den.pad_id());
          core::RngStream stream(1, 0, core::RngPurpose::Sampling);
          auto gen = decode::sampling_generator(stream, torch::kCPU);
          decode::generate(den, batch, cfg, first_steps(full, 1), gen);  // warm-up
          const auto r = decode::generate(den, batch, cfg, plan, gen);
          const double per_forward = r.seconds_total / static_cast<double>(r.forwards);
          const double total_est = per_forward * static_cast<double>(full.num_steps());
          char buf[512];
          std::snprintf(buf, sizeof buf,
                        "{\"device\": \"cpu\", \"preset\": \"%s\", \"decoding\": \"%s\", \"gen_length\": %ld, "
                        "\"batch\": %ld, \"forwards\": %ld, \"steps_timed\": %ld, \"seconds\": %.3f, "
                        "\"completion_tokens_per_s\": %.1f, \"loop_overhead_fraction\": %.4f}",
                        preset.c_str(), ass ? "eoser_ass" : "semi_ar", static_cast<long>(L), static_cast<long>(B),
                        static_cast<long>(full.num_steps()), static_cast<long>(r.forwards), total_est,
                        static_cast<double>(B * L) / total_est, 1.0 - r.seconds_model / r.seconds_total);
          rows += (rows.empty() ? "" : ",\n  ") + std::string(buf);
          std::fprintf(stderr, "%s\n", buf);
        }
      }
    }
  }
  std::printf("{\"benchmark\": \"decode\", \"threads\": %d, \"rows\": [\n  %s\n]}\n", torch::get_num_threads(), rows.c_str());
  return 0;
}
