#include "apps/mode_setup.hpp"

#include <iostream>

#include "apps/dispatch.hpp"
#include "apps/mode_eval.hpp"
#include "apps/mode_export.hpp"
#include "eval/eval_config.hpp"
#include "train/run_control.hpp"
#include "apps/mode_info.hpp"
#include "apps/mode_score.hpp"
#include "apps/mode_rl.hpp"
#include "apps/mode_sft.hpp"
#include "sft/sft_loop.hpp"
#include "apps/mode_generate.hpp"
#include "apps/mode_tokenize.hpp"
#include "model/model_config.hpp"
#include "core/build_info.hpp"
#include "config/run_config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "decode/decode_config.hpp"
#include "dist/collectives_mpi.hpp"
#include "dist/consistency.hpp"
#include "dist/dist_config.hpp"
#include "dist/mpi_env.hpp"
#include "tasks/task.hpp"
#include "tokenizer/tokenizer_config.hpp"

namespace mdrl::apps {

const std::vector<ModeInfo>& modes() {
  // Modes that need no mode name take it as unused.
#define MDRL_MODE_RUN(fn) [](const dist::MpiEnv& env, const std::string&, const std::vector<std::string>& args) { return fn(env, args); }
  static const std::vector<ModeInfo> kModes = {
      {"sft", "masked-diffusion supervised fine-tuning", nullptr, MDRL_MODE_RUN(run_sft)},
      {"diffu-grpo", "diffu-GRPO reinforcement learning (d1)", nullptr, run_rl},
      {"one-step-grpo", "one-step GRPO reinforcement learning", nullptr, run_rl},
      {"cj-grpo", "consistency-trajectory GRPO (CJ-GRPO)", nullptr, run_rl},
      {"eval", "accuracy on GSM8K, MATH500, Countdown, Sudoku across decoding settings", nullptr, MDRL_MODE_RUN(run_eval)},
      {"generate", "decode prompts, with a live view of unmasking", nullptr, MDRL_MODE_RUN(run_generate)},
      {"score", "score generation files (ours and the reference tools' JSON)", nullptr, MDRL_MODE_RUN(run_score)},
      {"export", "merged weights or a PEFT adapter as safetensors", nullptr, MDRL_MODE_RUN(run_export)},
      {"tokenize", "encode text to token ids and pieces, or decode ids (tokenizer debugging)", nullptr,
       MDRL_MODE_RUN(run_tokenize)},
      {"info", "build, devices, MPI ranks and their placement", nullptr, MDRL_MODE_RUN(run_info)},
  };
#undef MDRL_MODE_RUN
  return kModes;
}

namespace {
// Every option key and section any mode registers (for Options::set_foreign_sections / _keys).
struct AllOptions {
  std::set<std::string> sections, keys;
};

AllOptions collect_all_options() {
  config::RunConfig run;
  config::LogConfig log;
  dist::DistConfig dist;
  config::Options opts("all");
  run.add_options(opts);
  log.add_options(opts);
  dist.add_options(opts);
  tokenizer::TokenizerConfig tok;
  TokenizeConfig tokenize;
  tok.add_options(opts);
  tokenize.add_options(opts);
  model::ModelConfig mc;
  model::LoraConfig lc;
  ExportConfig ex;
  mc.add_options(opts);
  lc.add_options(opts);
  ex.add_options(opts);
  decode::DecodeConfig dc;
  GenerateConfig gen;
  dc.add_options(opts);
  gen.add_options(opts);
  tasks::TasksConfig tasks_cfg;
  ScoreConfig score;
  tasks_cfg.add_options(opts);
  score.add_options(opts);
  eval::EvalConfig eval_cfg;
  train::RunControlConfig eval_control;
  config::Options eval_opts("eval");
  eval_cfg.add_options(eval_opts);
  eval_control.add_options(eval_opts);
  sft::SftSettings sft_settings;
  config::Options sft_opts("sft");
  add_sft_options(sft_opts, sft_settings);
  rl::RlSettings rl_settings;
  config::Options rl_opts("rl");
  add_rl_mode_options(rl_opts, rl_settings);
  AllOptions all;
  for (const auto* o : {&opts, &sft_opts, &rl_opts, &eval_opts}) {
    for (const auto& n : o->section_names()) all.sections.insert(n);
    for (const auto& i : o->options()) all.keys.insert(i.key);
  }
  return all;
}

const AllOptions& all_options() {
  static const AllOptions kAll = collect_all_options();
  return kAll;
}
}  // namespace

std::set<std::string> all_sections() { return all_options().sections; }

config::CommandLine setup_mode(const dist::MpiEnv& env, config::Options& opts, const std::vector<std::string>& args,
                               const std::string& usage, const config::LogConfig& log, bool table_at_debug) {
  std::set<std::string> foreign = all_sections(), foreign_keys = all_options().keys;
  for (const auto& s : opts.section_names()) foreign.erase(s);
  for (const auto& i : opts.options()) foreign_keys.erase(i.key);
  opts.set_foreign_sections(std::move(foreign));
  opts.set_foreign_keys(std::move(foreign_keys));

  config::CommandLine cl;
  int failed_code = 0;
  std::string message;
  try {
    cl = opts.parse(args);
  } catch (const core::Error& e) {
    failed_code = e.exit_code();
    message = std::string(e.kind()) + ": " + e.what();
  }
  // All ranks parse the same arguments and files; agree on the outcome so the error is printed
  // once (by the lowest failing rank) and every rank exits with the same code.
  const int first_failed = dist::allreduce_min(env.world(), failed_code != 0 ? env.rank() : env.size());
  if (first_failed < env.size()) {
    const int code = dist::allreduce_max(env.world(), failed_code);
    if (env.rank() == first_failed) core::log::error() << message;
    throw CollectiveExit{code};
  }
  if (cl.help) {
    if (env.rank() == 0) std::cout << opts.help_text(usage) << std::flush;
    throw CollectiveExit{0};
  }
  log.apply();
  if (env.rank() == 0 && !opts.ignored().empty()) core::log::warn() << opts.ignored_summary();
  if (cl.print_config) {
    if (env.rank() == 0) std::cout << opts.resolved_ini() << std::flush;
    throw CollectiveExit{0};
  }
  // Every rank must run the same configuration (same files on a shared file system, same argv).
  try {
    dist::verify_same_text(env.world(), opts.resolved_ini(), "the resolved configuration");
  } catch (const core::MismatchError& e) {
    if (env.rank() == 0) core::log::error() << e.kind() << ": " << e.what();
    throw CollectiveExit{e.exit_code()};
  }
  // At info what differs from the defaults; the whole table at debug (every option and its source).
  const bool debug = core::log::enabled(core::log::Level::Debug);
  core::log::Line(table_at_debug ? core::log::Level::Debug : core::log::Level::Info)
      << core::version_line() << ", " << env.size() << " rank(s)\n"
      << (debug ? opts.resolved_table() : opts.changed_table());
  return cl;
}

}  // namespace mdrl::apps
