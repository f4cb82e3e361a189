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
           "at most this many training steps per trajectory segment (seg-<first step>.h5; a segment also ends "
           "at every checkpoint); 0 = segments end only at checkpoints")
      .add("compression", compression,
           "deflate level 0..9 for trajectory datasets (0 = none); compressed writes are slower but files "
           "are several times smaller")
      .add("collective_io", collective_io,
           "write uncompressed trajectory data with MPI-IO collective transfers too (compressed data always is); "
           "can help on parallel file systems with many ranks, costs synchronisation on one node")
      .add("flush_every", flush_every,
           "training steps each rank buffers in memory before all ranks write them together (one collective "
           "write per dataset); memory is flush_every x one step's samples per rank. The training loop writes "
           "the buffer and finishes the segment before every checkpoint, so a resumed run loses nothing; a hard "
           "kill loses only the steps after the last checkpoint, which the resumed run redoes")
      .add("sync_writes", sync_writes,
           "flush the open trajectory segment (<name>.h5.tmp) to disk after every write, not only when it is "
           "finished at a checkpoint, so that the steps since can be inspected while the run goes on; costs an "
           "fsync per write (finished segments are always synced)")
      .add("node_writer", node_writer,
           "one rank per node writes the trajectory rows of all ranks on its node, which send it theirs: on one "
           "node the ranks do not queue for the file, and writes are a few large pieces; false = every rank "
           "writes its own rows");
  opts.add_validator([this] { validate(); });
}

void TrajectoryConfig::validate() const {
  MDRL_CHECK(steps_per_file >= 0, core::ConfigError,
             "trajectory.steps_per_file = " + std::to_string(steps_per_file) + " is negative; use 0 (segments end at checkpoints only) or more");
  MDRL_CHECK(compression >= 0 && compression <= 9, core::ConfigError,
             "trajectory.compression = " + std::to_string(compression) + " is out of range; use 0 (none) to 9");
  MDRL_CHECK(flush_every >= 1, core::ConfigError,
             "trajectory.flush_every = " + std::to_string(flush_every) +
                 " is out of range; use 1 (write every step) or more");
}

void CheckpointConfig::add_options(config::Options& opts) {
  opts.section("checkpoint", "checkpoints in <run.dir>/checkpoints/ (resume, retention)")
      .add("every", every,
           "write a checkpoint every N training steps; 0 = only at the end of the run and on signals / "
           "CHECKPOINT_NOW")
      .add("keep_last", keep_last, "keep the newest N checkpoints of the checkpoint.every cadence and delete older ones (one written on a "
                               "signal is kept until the next checkpoint); 0 = keep all")
      .add("fallback", fallback,
           "on resume, when the newest checkpoint is damaged (unreadable, or a tensor failing its checksum): warn, "
           "move it aside as step_<N>.h5.corrupt and resume from the previous one; false = stop with an error "
           "naming it");
  opts.add_validator([this] { validate(); });
}

void CheckpointConfig::validate() const {
  MDRL_CHECK(every >= 0, core::ConfigError,
             "checkpoint.every = " + std::to_string(every) + " is negative; use 0 (end and signals only) or more");
  MDRL_CHECK(keep_last >= 0, core::ConfigError,
             "checkpoint.keep_last = " + std::to_string(keep_last) + " is negative; use 0 (keep all) or more");
}

}  // namespace mdrl::io
