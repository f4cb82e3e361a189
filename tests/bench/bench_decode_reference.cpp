// Benchmark (label bench, issue 19): mdrl's decode loop (decode::generate through LladaDenoiser,
// what `mdrl generate` runs) side by side with a PyTorch implementation of the reference's loop
// (tests/bench/decode_reference.py, spec algorithms.md §1.1-§1.7: full-vocabulary f64 Gumbel noise
// and softmax, per-row top-k in a python loop) on the same weights (exported here with
// export_hf_checkpoint, read by the python side), the same prompts and settings, one after the
// other in one run: batch 8 x ~45 prompt tokens, gen 128, temperature 1, semi-AR (blocks of 32,
// 64 steps) and EOSER + ASS (7 steps, one block, gamma_min 0.01), at the small vocabulary
// (llada-100m) and LLaDA's real one (llada-100m-v126k). mdrl runs with the options that reproduce
// the reference (decode.attention_mask = false, sample_mask_token = true, noise_precision = f64,
// sampled by inverse CDF: the distribution of the f64 Gumbel-max; f64_sampler = gumbel draws its noise);
// an extra EOSER + ASS row runs mdrl's defaults. Each row also times the bare model forward
// (hidden + full LM head, bench_model's path) at the same shape, so that generate's time per
// forward can be compared with it. Environment: MDRL_BENCH_THREADS (2), MDRL_BENCH_PRESETS
// (comma list), MDRL_BENCH_STEPS (time only the first n semi-AR steps on both sides; 0 = all),
// MDRL_PYTHON and MDRL_DECODE_REFERENCE (set by CTest). One JSON object on stdout.
#include <ATen/Parallel.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "bench/bench_support.hpp"
#include "decode/decode_plan.hpp"
#include "decode/generate.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/llada.hpp"

using namespace mdrl;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The plan cut to its first `n` steps (0 = all), as bench_decode does.
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

decode::DecodeConfig decode_config(bool ass, bool reference_options) {
  decode::DecodeConfig cfg;
  cfg.gen_length = 128;
  cfg.temperature = 1.0;
  cfg.gamma_min = 0.01;
  if (ass) {
    cfg.schedule = decode::Schedule::Ass, cfg.steps = 7, cfg.block_num = 1, cfg.eoser = true;
  } else {
    cfg.schedule = decode::Schedule::SemiAr, cfg.block_length = 32, cfg.steps = 64;
  }
  if (reference_options) {
    cfg.attention_mask = false;
    cfg.sample_mask_token = true;
    cfg.noise_precision = decode::Precision::F64;
  }
  return cfg;
}

// Runs a shell command, returns its stdout (stderr passes through); empty on failure.
std::string run_capture(const std::string& cmd, const fs::path& out) {
  const int rc = std::system((cmd + " > " + bench::quote(out.string())).c_str());
  if (rc != 0) return "";
  std::ifstream in(out);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

json side(double total, double model, int64_t forwards) {
  const double n = static_cast<double>(std::max<int64_t>(forwards, 1));
  return {{"forwards_timed", forwards},
          {"seconds_total", total},
          {"seconds_per_forward", total / n},
          {"model_seconds_per_forward", model / n},
          {"outside_model_seconds_per_forward", (total - model) / n}};
}

}  // namespace

int main() {
  torch::NoGradGuard no_grad;
  const int threads = static_cast<int>(bench::per_preset("MDRL_BENCH_THREADS", "", 2));
  at::set_num_threads(threads);
  const std::string python = bench::env_or("MDRL_PYTHON", "");
  const std::string script = bench::env_or("MDRL_DECODE_REFERENCE", "");
  if (python.empty() || script.empty() || !fs::exists(python) || !fs::exists(script)) {
    std::printf("{\"benchmark\": \"decode_reference\", \"skipped\": \"MDRL_PYTHON or MDRL_DECODE_REFERENCE not set\"}\n");
    return 0;
  }
  const int64_t cap = bench::per_preset("MDRL_BENCH_STEPS", "", 0);
  const auto presets = bench::split(bench::env_or("MDRL_BENCH_PRESETS", "llada-100m,llada-100m-v126k"), ',');
  std::string tmpl = (fs::temp_directory_path() / "mdrl-bench-decref-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "bench_decode_reference: cannot create a temporary folder\n");
    return 1;
  }
  const fs::path dir = tmpl;
  const std::string load_before = bench::loadavg();
  json rows = json::array();

  for (const auto& name : presets) {
    const auto mcfg = model::preset(name);
    model::LladaModel m(mcfg, 0);
    m->eval();
    const fs::path mdir = dir / name;
    model::export_hf_checkpoint(*m, mdir.string(), torch::kFloat);
    decode::LladaDenoiser den(m);

    // 8 prompts of 41..48 tokens (ordinary token ids, no special id among them).
    std::mt19937_64 rng(7);
    const int64_t id_hi = mcfg.vocab_size > 1000 ? 126000 : 256;
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t b = 0; b < 8; ++b) {
      std::vector<int64_t> p(static_cast<size_t>(41 + b));
      for (auto& t : p) t = 32 + static_cast<int64_t>(rng() % static_cast<uint64_t>(id_hi - 32));
      prompts.push_back(p);
    }
    const auto batch = decode::left_pad(prompts, den.pad_id());
    const int64_t T = batch.ids.size(1) + 128;

    // The bare forward at this shape (bench_model's path: hidden + LM head on every position).
    const auto ids = torch::randint(32, id_hi, {8, T}, torch::kLong);
    m->forward(ids);
    std::vector<double> fw;
    for (int r = 0; r < 2; ++r) {
      const auto t0 = Clock::now();
      m->forward(ids);
      fw.push_back(since(t0));
    }
    const double bare = bench::median(fw);

    for (const bool ass : {false, true}) {
      const auto cfg = decode_config(ass, true);
      const auto full = decode::make_plan(cfg);
      const int64_t timed = ass ? 0 : cap;
      json job = {{"prompts", prompts},
                  {"decoding", ass ? "eoser_ass" : "semi_ar"},
                  {"gen_length", cfg.gen_length},
                  {"steps", cfg.steps},
                  {"block_length", cfg.block_length},
                  {"temperature", cfg.temperature},
                  {"gamma_min", cfg.gamma_min},
                  {"gamma_max", cfg.gamma_max},
                  {"threads", threads},
                  {"steps_timed", timed},
                  {"seed", 1}};
      const fs::path jpath = mdir / (std::string(ass ? "ass" : "semi") + ".json");
      std::ofstream(jpath) << job.dump();
      const std::string out =
          run_capture("OMP_NUM_THREADS=" + std::to_string(threads) + " " + bench::quote(python) + " " +
                          bench::quote(script) + " --model " + bench::quote(mdir.string()) + " --job " +
                          bench::quote(jpath.string()),
                      mdir / "ref_out.json");
      if (out.empty()) {
        std::fprintf(stderr, "bench_decode_reference: the python reference failed (%s)\n", name.c_str());
        return 1;
      }
      const json ref = json::parse(out);

      auto run_mdrl = [&](bool reference_options) {
        const auto c = decode_config(ass, reference_options);
        const auto plan = first_steps(decode::make_plan(c), timed);
        core::RngStream stream(1, 0, core::RngPurpose::Sampling);
        auto gen = decode::sampling_generator(stream, torch::kCPU);
        decode::generate(den, batch, c, first_steps(plan, 1), gen);  // warm-up
        return decode::generate(den, batch, c, plan, gen);
      };
      const auto r = run_mdrl(true);
      const json ours = side(r.seconds_total, r.seconds_model, r.forwards);
      const json theirs = side(ref["seconds_total"].get<double>(), ref["seconds_model"].get<double>(),
                               ref["forwards"].get<int64_t>());
      json row = {{"preset", name},
                  {"vocab", mcfg.vocab_size},
                  {"decoding", ass ? "eoser_ass" : "semi_ar"},
                  {"batch", 8},
                  {"prompt_length", batch.ids.size(1)},
                  {"gen_length", cfg.gen_length},
                  {"steps", full.num_steps()},
                  {"threads", threads},
                  {"bare_forward_seconds", bare},
                  {"mdrl", ours},
                  {"reference", theirs},
                  {"throughput_ratio", theirs["seconds_per_forward"].get<double>() /
                                           ours["seconds_per_forward"].get<double>()},
                  {"mdrl_model_over_bare_forward", ours["model_seconds_per_forward"].get<double>() / bare}};
      if (ass) {
        const auto d = run_mdrl(false);
        const json def = side(d.seconds_total, d.seconds_model, d.forwards);
        row["mdrl_default_options"] = def;
        row["throughput_ratio_default_options"] =
            theirs["seconds_per_forward"].get<double>() / def["seconds_per_forward"].get<double>();
      }
      std::fprintf(stderr, "%s\n", row.dump().c_str());
      rows.push_back(row);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  const json out = {{"benchmark", "decode_reference"},
                    {"threads", threads},
                    {"torch_threads", at::get_num_threads()},
                    {"loadavg_before", load_before},
                    {"loadavg_after", bench::loadavg()},
                    {"rows", rows}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
