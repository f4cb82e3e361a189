// Option sections of the io module: [trajectory] (the rollout trajectory store of the RL modes) and
// [checkpoint] (cadence and retention of <run.dir>/checkpoints/). Modes register the sections they use.
#pragma once

#include <cstdint>

namespace mdrl::config {
class Options;
}

namespace mdrl::io {

struct TrajectoryConfig {
  bool enabled = true;            // write <run.dir>/trajectories/*.h5
  int64_t steps_per_file = 0;     // at most this many training steps per segment; 0 = segments end at checkpoints only
  int64_t compression = 0;        // deflate level 0..9 (0 = none); collective filtered writes
  bool collective_io = false;     // MPI-IO collective transfers for uncompressed data too
  int64_t flush_every = 8;        // training steps buffered in memory per collective write
  bool sync_writes = false;       // flush the open segment to disk after every write, not only when finished
  bool node_writer = true;        // one rank per node writes the node's rows (the others send them)

  void add_options(config::Options& opts);
  void validate() const;
};

struct CheckpointConfig {
  int64_t every = 0;      // write a checkpoint every N training steps; 0 = only at the end and on signals
  int64_t keep_last = 3;  // keep the newest N checkpoints; 0 = keep all
  bool fallback = false;  // resume from the previous checkpoint when the newest is damaged

  void add_options(config::Options& opts);
  void validate() const;
};

}  // namespace mdrl::io
