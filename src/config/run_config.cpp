#include "config/run_config.hpp"

#include "config/options.hpp"
#include "core/error.hpp"

namespace mdrl::config {

void RunConfig::add_options(Options& opts) {
  opts.section("run", "run identity")
      .add("seed", seed, "seed of every random stream (per rank and purpose); 0 <= seed < 2^63")
      .add("dir", dir, "run directory for checkpoints, metrics.jsonl and trajectory files");
  opts.add_validator([this] { validate(); });
}

void RunConfig::validate() const {
  MDRL_CHECK(seed >= 0, core::ConfigError, "run.seed = " + std::to_string(seed) + " is negative; use 0 or more");
  MDRL_CHECK(!dir.empty(), core::ConfigError, "run.dir is empty; give a directory for the run's outputs");
}

void LogConfig::add_options(Options& opts) {
  using core::log::Level;
  opts.section("log", "logging")
      .add_enum("level", level,
                {{"debug", Level::Debug}, {"info", Level::Info}, {"warn", Level::Warn}, {"error", Level::Error}},
                "lowest level printed; info and debug lines come from rank 0 only");
  opts.add_validator([this] { validate(); });
}

}  // namespace mdrl::config
