// [trajectory] and [checkpoint] options (io_config.hpp).
#include "io/io_config.hpp"

#include <string>

#include "config/options.hpp"
#include "core/error.hpp"

namespace mdrl::io {

void TrajectoryConfig::add_options(config::Options& opts) {
  opts.section("trajectory", "rollout trajectory store (HDF5, src/io/README.md)")
      .add("enabled", enabled, "write every rollout batch to <run.dir>/trajectories/ (prompts, completions, step maps, "
                               "confidences, rewards, advantages, old log-probs)")
      .add("steps_per_file", steps_per_file,
           "training steps per trajectory file (steps_<first>.h5); 0 = one file for the run (trajectories.h5)")
      .add("compression", compression,
           "deflate level 0..9 for trajectory datasets (0 = none); compressed writes are slower but files "
           "are several times smaller")
      .add("collective_io", collective_io,
           "write uncompressed trajectory data with MPI-IO collective transfers too (compressed data always is); "
           "can help on parallel file systems with many ranks, costs synchronisation on one node");
  opts.add_validator([this] { validate(); });
}

void TrajectoryConfig::validate() const {
  MDRL_CHECK(steps_per_file >= 0, core::ConfigError,
             "trajectory.steps_per_file = " + std::to_string(steps_per_file) + " is negative; use 0 (one file) or more");
  MDRL_CHECK(compression >= 0 && compression <= 9, core::ConfigError,
             "trajectory.compression = " + std::to_string(compression) + " is out of range; use 0 (none) to 9");
}

void CheckpointConfig::add_options(config::Options& opts) {
  opts.section("checkpoint", "checkpoints in <run.dir>/checkpoints/ (resume, retention)")
      .add("every", every,
           "write a checkpoint every N training steps; 0 = only at the end of the run and on signals / "
           "CHECKPOINT_NOW")
      .add("keep_last", keep_last, "keep the newest N checkpoints and delete older ones; 0 = keep all");
  opts.add_validator([this] { validate(); });
}

void CheckpointConfig::validate() const {
  MDRL_CHECK(every >= 0, core::ConfigError,
             "checkpoint.every = " + std::to_string(every) + " is negative; use 0 (end and signals only) or more");
  MDRL_CHECK(keep_last >= 0, core::ConfigError,
             "checkpoint.keep_last = " + std::to_string(keep_last) + " is negative; use 0 (keep all) or more");
}

}  // namespace mdrl::io
