// Resume checks of the configuration and the run's length (resume_check.hpp).
#include "train/resume_check.hpp"

#include <map>

#include "config/ini.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "train/train_config.hpp"

namespace mdrl::train {

const std::vector<std::string>& resume_free_options() {
  // Where the run lives and how long the job may take; processes, devices and threads (the same
  // numbers on any layout the checkpoint accepts); logging and output verbosity; checkpoint cadence,
  // retention and fallback; trajectory file layout; step-line and evaluation cadence; whether and
  // what to resume; the run's length (a shorter one than the checkpoint is check_resume_length's);
  // activation checkpointing (recomputation, bit-identical results).
  static const std::vector<std::string> free = {
      "run.dir",
      "run.walltime",
      "run.walltime_margin",
      "dist.*",
      "log.*",
      "checkpoint.*",
      "trajectory.*",
      "train.log_every",
      "train.eval_every",
      "train.resume",
      "train.resume_override",
      "train.max_steps",
      "train.epochs",
      "model.activation_checkpointing",
  };
  return free;
}

bool matches_option(const std::string& key, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (p == key) return true;
    if (p.size() >= 2 && p.compare(p.size() - 2, 2, ".*") == 0 && key.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0)
      return true;
  }
  return false;
}

std::vector<OptionChange> changed_options(const std::string& checkpoint_ini, const std::string& now_ini,
                                          const std::string& checkpoint_where) {
  std::map<std::string, std::string> then;
  for (const auto& e : config::parse_ini(checkpoint_ini, checkpoint_where)) then[e.key] = e.value;
  std::vector<OptionChange> out;
  for (const auto& e : config::parse_ini(now_ini, "this run's configuration")) {
    const auto it = then.find(e.key);
    if (it != then.end() && it->second != e.value) out.push_back({e.key, it->second, e.value});
  }
  return out;
}

void check_resume_config(const std::string& checkpoint_path, const std::string& checkpoint_ini,
                         const std::string& now_ini, const std::vector<std::string>& mode_free,
                         const std::vector<std::string>& overrides) {
  std::vector<std::string> known;
  for (const auto& e : config::parse_ini(now_ini, "this run's configuration")) known.push_back(e.key);
  for (const auto& o : overrides) {
    bool found = false;
    for (const auto& k : known) found = found || matches_option(k, {o});
    MDRL_CHECK(found, core::ConfigError,
               "train.resume_override lists '" + o +
                   "', which is not an option of this mode; list options as "
                   "section.key (e.g. train.batch_size), comma-separated");
  }
  if (checkpoint_ini.empty()) {
    core::log::debug() << "checkpoint " << checkpoint_path << " stores no configuration; resume options not compared";
    return;
  }
  std::vector<OptionChange> refused;
  for (const auto& c : changed_options(checkpoint_ini, now_ini, checkpoint_path + ":config_ini")) {
    const std::string change = c.key + " = " + c.in_checkpoint + " in the checkpoint, " + c.now + " now";
    if (matches_option(c.key, resume_free_options()) || matches_option(c.key, mode_free)) {
      core::log::debug() << "resume: " << change;
    } else if (matches_option(c.key, overrides)) {
      core::log::info() << "resume: " << change << " (accepted: train.resume_override)";
    } else {
      refused.push_back(c);
    }
  }
  if (refused.empty()) return;
  std::string list, keys;
  for (const auto& c : refused) {
    list += "\n  " + c.key + " = " + (c.in_checkpoint.empty() ? "\"\"" : c.in_checkpoint) + " in the checkpoint, " +
            (c.now.empty() ? "\"\"" : c.now) + " now";
    keys += (keys.empty() ? "" : ",") + c.key;
  }
  throw core::ConfigError("checkpoint " + checkpoint_path +
                          " was written by a run with other settings; resuming would not continue "
                          "that run:" +
                          list + "\nResume with the checkpoint's values (its configuration: h5dump -a config_ini " +
                          checkpoint_path +
                          "), start a new run.dir, or accept the change with train.resume_override = " + keys);
}

void check_resume_world(const std::string& checkpoint_path, const std::string& checkpoint_ini,
                        int64_t checkpoint_world, int64_t world_size, int64_t batch_size) {
  const auto num = [](int64_t v) { return std::to_string(v); };
  const std::string ranks_now = num(world_size) + (world_size == 1 ? " rank" : " ranks");
  const std::string ranks_then = num(checkpoint_world) + (checkpoint_world == 1 ? " rank" : " ranks");
  int64_t then_batch = 0;
  if (!checkpoint_ini.empty())
    for (const auto& e : config::parse_ini(checkpoint_ini, checkpoint_path + ":config_ini"))
      if (e.key == "train.batch_size") {
        try {
          then_batch = std::stoll(e.value);
        } catch (const std::exception&) {
          then_batch = 0;
        }
      }
  MDRL_CHECK(then_batch > 0, core::ConfigError,
             "checkpoint " + checkpoint_path + " was written by " + ranks_then + " and stores no train.batch_size, so " +
                 "it cannot be checked for a resume on " + ranks_now + "; resume it on " + ranks_then +
                 ", or start a new run.dir");
  const int64_t global = checkpoint_world * then_batch;
  if (world_size * batch_size == global) {
    core::log::warn() << "resuming " << checkpoint_path << " (written by " << ranks_then << " x train.batch_size "
                      << then_batch << ") on " << ranks_now << " x train.batch_size " << batch_size
                      << ": the same global batch of " << global
                      << " sequences and data order from the same sample, but not bit-for-bit the run an "
                         "uninterrupted job would have made (other reductions, other masking noise per rank)";
    return;
  }
  std::string what_to_do;
  if (global % world_size == 0) {
    what_to_do = "set train.batch_size = " + num(global / world_size) + " for " + ranks_now;
  } else {
    std::string counts;
    for (int64_t w = 1; w <= global; ++w)
      if (global % w == 0) counts += (counts.empty() ? "" : ", ") + num(w);
    what_to_do = num(global) + " sequences do not divide among " + ranks_now + ": run on " + counts +
                 " ranks with train.batch_size = " + num(global) + " / ranks";
  }
  throw core::ConfigError("checkpoint " + checkpoint_path + " was written by " + ranks_then + " x train.batch_size " +
                          num(then_batch) + " = " + num(global) + " sequences per micro-batch; this run has " +
                          ranks_now + " x train.batch_size " + num(batch_size) + " = " + num(world_size * batch_size) +
                          ". Resuming on another number of ranks needs the same global micro-batch (ranks x "
                          "train.batch_size; train.grad_accum unchanged): " + what_to_do + ", resume on " + ranks_then +
                          ", or start a new run.dir");
}

void check_resume_length(const std::string& checkpoint_path, int64_t checkpoint_step, int64_t total_steps,
                         const TrainConfig& cfg) {
  if (checkpoint_step <= total_steps) return;
  const std::string length = cfg.max_steps > 0 ? "train.max_steps = " + std::to_string(cfg.max_steps)
                                               : "train.epochs = " + std::to_string(cfg.epochs) + " (" +
                                                     std::to_string(total_steps) + " optimizer steps)";
  throw core::ConfigError("checkpoint " + checkpoint_path + " is at step " + std::to_string(checkpoint_step) + ", " +
                          length + ": nothing to do; raise " +
                          (cfg.max_steps > 0 ? std::string("train.max_steps") : std::string("train.epochs")) +
                          " to train on from step " + std::to_string(checkpoint_step) + ", or use a new run.dir");
}

}  // namespace mdrl::train
