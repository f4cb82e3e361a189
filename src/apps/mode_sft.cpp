// `mdrl sft`: wires the configuration to sft::run_sft.
#include "apps/mode_sft.hpp"

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
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
  s.config_ini = opts.resolved_ini();
  const auto out = sft::run_sft(env, s);
  (void)out;
  return 0;
}

}  // namespace mdrl::apps
