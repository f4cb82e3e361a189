// The GRPO-family modes: wires the configuration to rl::run_grpo.
#include "apps/mode_rl.hpp"

#include "apps/mode_setup.hpp"
#include "config/options.hpp"
#include "core/log.hpp"
#include "dist/mpi_env.hpp"

namespace mdrl::apps {

void add_rl_mode_options(config::Options& opts, rl::RlSettings& s) { rl::add_rl_options(opts, s); }

int run_rl(const dist::MpiEnv& env, const std::string& mode, const std::vector<std::string>& args) {
  rl::RlSettings s;
  s.mode = mode;
  config::LogConfig log;
  config::Options opts(mode);
  add_rl_mode_options(opts, s);
  log.add_options(opts);
  const std::string what =
      mode == "diffu-grpo" ? "diffu-GRPO (d1, spec algorithms.md §2.1): prompt tokens masked with "
                             "grpo.p_mask_prompt, all completion tokens masked, one forward"
      : mode == "cj-grpo"  ? "CJ-GRPO (spec §2.3): the log-prob of every transition x_i -> x_{i+1} the sampler took,\n"
                             "one forward and backward per decoding step (memory flat in the number of steps)"
                           : "one-step GRPO (spec §2.2): clean prompt, all completion tokens masked, one forward";
  setup_mode(env, opts, args,
             "usage: mdrl " + mode + " [-c file.ini ...] [--section.key=value ...]\n\n"
             "GRPO-family RL of the [model] on rl.task: " + what + ". Rollouts with [decode], G completions per prompt\n"
             "(grpo.num_generations), each rollout optimised for grpo.num_iterations steps; checkpoints, metrics.jsonl\n"
             "and trajectories/*.h5 in run.dir; resumes from its newest checkpoint.",
             log);
  s.config_ini = opts.resolved_ini();
  rl::run_grpo(env, s);
  return 0;
}

}  // namespace mdrl::apps
