// `mdrl sft`: wires the configuration to sft::run_sft.
#include "apps/mode_sft.hpp"

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
#include "core/log.hpp"
#include "dist/mpi_env.hpp"
#include "sft/sft_loop.hpp"

namespace mdrl::apps {

void add_sft_options(config::Options& opts, sft::SftSettings& s) {
  s.run.add_options(opts);
  s.control.add_options(opts);
  s.dist.add_options(opts);
  s.tokenizer.add_options(opts);
  s.model.add_options(opts);
  s.lora.add_options(opts);
  s.train.add_options(opts);
  s.sft.add_options(opts);
  s.tasks.add_options(opts);
  s.decode.add_options(opts);
  s.checkpoint.add_options(opts);
}

namespace {
// The [train]/[sft] defaults are the 8B recipe's (lr 1e-5, batch 1 x GA 4, length 4096, 20 epochs):
// right for LoRA on LLaDA-8B, far too slow for a small model trained from a preset. Say so when
// none of them was set for such a model.
void warn_recipe_defaults_on_small_model(const dist::MpiEnv& env, const config::Options& opts,
                                         const sft::SftSettings& s) {
  if (env.rank() != 0 || !s.model.path.empty() || s.model.preset == "llada-8b") return;
  for (const char* key : {"train.lr", "train.batch_size", "train.grad_accum", "train.max_steps", "sft.max_length"})
    if (opts.origin(key) != "default") return;
  core::log::warn() << "model.preset = " << s.model.preset
                    << " with the SFT defaults of the LLaDA-8B recipe (train.lr = 1e-5, batch_size = 1, grad_accum = 4, "
                       "sft.max_length = 4096): a small model barely learns with them; start from "
                       "inputs/quickstart/sft.ini (lr 3e-3, batch 16, 1000 steps) and set [train] and sft.max_length";
}
}  // namespace

int run_sft(const dist::MpiEnv& env, const std::vector<std::string>& args) {
  sft::SftSettings s;
  s.lora.settings.rank = 0;  // full fine-tuning unless lora.rank is set (the recipes for 8B set it)
  config::LogConfig log;
  config::Options opts("sft");
  add_sft_options(opts, s);
  log.add_options(opts);
  setup_mode(env, opts, args,
             "usage: mdrl sft [-c file.ini ...] [--section.key=value ...]\n\n"
             "Masked-diffusion SFT (spec algorithms.md §3) of the [model] on sft.data (JSONL) or the examples of\n"
             "sft.task, with checkpoints and metrics.jsonl in run.dir; resumes from its newest checkpoint.",
             log);
  warn_recipe_defaults_on_small_model(env, opts, s);
  s.config_ini = opts.resolved_ini();
  const auto out = sft::run_sft(env, s);
  (void)out;
  return 0;
}

}  // namespace mdrl::apps
