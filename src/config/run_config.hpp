// Options every mode shares: [run] (identity and seed of a run) and [log] (verbosity).
#pragma once

#include <cstdint>
#include <string>

#include "core/log.hpp"

namespace mdrl::config {

class Options;

struct RunConfig {
  int64_t seed = 42;                  // the reference's seed (spec algorithms.md §2.0, §4)
  std::string dir = "runs/default";   // run directory: checkpoints, metrics.jsonl, trajectories

  void add_options(Options& opts);
  void validate() const;
};

struct LogConfig {
  core::log::Level level = core::log::Level::Info;

  void add_options(Options& opts);
  void validate() const {}
  void apply() const { core::log::set_level(level); }
};

}  // namespace mdrl::config
