// `mdrl eval`: wires [eval], [decode], [model], [lora], [tasks] and run control to
// eval::run_eval (mode_eval.hpp). Every setup is checked before the model loads, so a bad setting
// exits 2 without output; the model is the [model] folder, model.merge_adapter merged into it, and
// lora.adapter loaded on top (the reference's adapter_path and checkpoint_path, spec §7.1).
#include "apps/mode_eval.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
#include "config/run_config.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "decode/decode_config.hpp"
#include "decode/denoiser.hpp"
#include "dist/device.hpp"
#include "dist/dist_config.hpp"
#include "dist/mpi_env.hpp"
#include "eval/eval_config.hpp"
#include "eval/eval_runner.hpp"
#include "io/checkpoint.hpp"
#include "model/model_config.hpp"
#include "tasks/task.hpp"
#include "tokenizer/tokenizer_config.hpp"
#include "train/run_control.hpp"

namespace mdrl::apps {
namespace fs = std::filesystem;
namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// XXH64 chain over a folder's *.safetensors and *.json files in name order ("" when no folder).
std::string folder_checksum(const std::string& dir) {
  if (dir.empty() || !fs::is_directory(dir)) return "";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors" || e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  uint64_t h = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    h = io::xxh64(bytes.data(), bytes.size(), h);
  }
  return hex(h);
}

}  // namespace

int run_eval(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  config::RunConfig run;
  config::LogConfig log;
  train::RunControlConfig control;
  dist::DistConfig dcfg;
  tokenizer::TokenizerConfig tcfg;
  model::ModelConfig mc;
  model::LoraConfig lc;
  lc.settings.rank = 0;
  decode::DecodeConfig dc;
  tasks::TasksConfig tc;
  eval::EvalConfig ec;
  config::Options opts("eval");
  run.add_options(opts);
  log.add_options(opts);
  control.add_options(opts);
  dcfg.add_options(opts);
  tcfg.add_options(opts);
  mc.add_options(opts);
  lc.add_options(opts);
  // [decode] is the template of every setup: the sweeps (eval.gen_lengths, steps, block lengths)
  // and the strategies replace its plan settings, and expand_setups() checks each setup's plan. So
  // the section is kept as given and its own check sees a trivially valid plan (one token, one
  // step), which still checks everything else (temperature, gamma, EOS ids, precisions).
  decode::DecodeConfig base_decode;
  opts.add_validator([&] {
    base_decode = dc;
    dc.schedule = decode::Schedule::SemiAr;
    dc.gen_length = dc.steps = dc.block_length = dc.block_num = 1;
  });
  dc.add_options(opts);
  opts.add_validator([&] { dc = base_decode; });  // as given again, for the printed configuration
  tc.add_options(opts);
  ec.add_options(opts);
  std::vector<eval::EvalSetup> setups;
  // Every setup's plan and every task's data, checked with the options (before any model loads).
  opts.add_validator([&] { setups = eval::expand_setups(ec, dc, tc); });
  setup_mode(
      env, opts, args,
      "usage: mdrl eval [-c file.ini ...] [--section.key=value ...]\n\n"
      "Evaluates the [model] on eval.tasks with every setup of eval.strategies x eval.gen_lengths x eval.steps x\n"
      "eval.block_lengths (block_nums for ASS). Writes into eval.out_dir per setup <setup>.jsonl (mdrl score\n"
      "reads it), reference/<setup>_<rank>_generations.json (the reference's files), done/<setup>.json, and the\n"
      "table results.md / results.json. Stops cleanly after a chunk of eval.batch_size x ranks completions on\n"
      "SIGTERM/SIGUSR1, a STOP file in eval.out_dir or run.walltime; the same command again skips finished\n"
      "setups, continues the interrupted one and refuses finished setups whose settings changed.",
      log);
  const std::string config_ini = opts.resolved_ini();
  // The data files, read before the model loads: a missing or malformed one exits 2 with nothing written.
  const eval::TaskExamples examples = eval::load_eval_examples(ec, tc, static_cast<uint64_t>(run.seed));
  const dist::Placement place = dist::place_rank(env, dcfg);
  const auto tok = tcfg.load();
  const auto device = torch::Device(place.device);
  decode::LladaDenoiser den(model::build_model(mc, lc, device, static_cast<uint64_t>(run.seed)));
  den.model()->eval();
  MDRL_CHECK(tok.vocab_size() <= den.vocab_size(), core::ConfigError,
             "tokenizer.path (" + tok.summary() + ") has more tokens than the model's vocabulary (" +
                 std::to_string(den.vocab_size()) + "); use the tokenizer the model was trained with");
  dist::NamedTensors params;
  for (const auto& p : den.model()->named_parameters()) params.emplace_back(p.key(), p.value());
  const std::string weights = hex(io::weights_checksum(params));
  const auto& bi = core::build_info();
  const nlohmann::json provenance{{"git_commit", bi.git_commit + (bi.git_dirty ? "-dirty" : "")},
                                  {"mdrl_version", bi.version},
                                  {"config", config_ini},
                                  {"model_path", mc.path.empty() ? "preset:" + mc.preset : mc.path},
                                  {"model_checksum", weights},
                                  {"merge_adapter", mc.merge_adapter},
                                  {"merge_adapter_checksum", folder_checksum(mc.merge_adapter)},
                                  {"adapter", lc.adapter},
                                  {"adapter_checksum", folder_checksum(lc.adapter)},
                                  {"world_size", env.size()},
                                  {"device", place.device},
                                  {"dtype", mc.dtype == model::DType::BF16 ? "bfloat16" : "float32"},
                                  {"torch_version", bi.torch_version}};
  core::log::info() << "eval: " << setups.size() << " setup(s) on " << env.size() << " rank(s), " << place.device
                    << ", weights " << weights << "; out_dir " << ec.out_dir;

  if (env.rank() == 0) fs::create_directories(ec.out_dir);
  train::RunControl rc(env, control, ec.out_dir);
  const eval::EvalInputs in{
      ec, setups, examples, static_cast<uint64_t>(run.seed), den, tok, provenance, "weights:" + weights, [&rc] {
        const auto d = rc.at_step_boundary();
        if (d.stop) core::log::info() << "eval: stopping (" << d.reason << ")";
        return d.stop;
      }};
  const auto out = eval::run_eval(env.world(), in);
  if (env.rank() != 0) return 0;
  if (!out.finished) {
    core::log::info() << "eval stopped: " << out.ran << " setup(s) finished now, " << out.skipped
                      << " earlier; rerun the same command to continue";
    return 0;
  }
  std::cout << eval::format_results_markdown(out.rows) << std::flush;
  core::log::info() << "eval: " << out.ran << " setup(s) decoded, " << out.skipped << " skipped (finished earlier); "
                    << (fs::path(ec.out_dir) / "results.md").string();
  return 0;
}

}  // namespace mdrl::apps
