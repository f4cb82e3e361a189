// Checkpoints (DESIGN.md "Conventions: Checkpoints"; format in src/io/README.md):
// <run.dir>/checkpoints/step_<N>.h5, written collectively to step_<N>.h5.tmp and renamed when
// complete (after every rank closed it and rank 0 flushed it to disk), a `latest` pointer file, and
// keep_last retention. Resume takes the newest step_<N>.h5 (temporaries of a crash are ignored) and
// refuses one whose model signature, trainable set (full/LoRA), base weights or world size differ
// from the run's, with a message that says what differs and what to do (a mode whose state maps
// onto another number of ranks, SFT, allows the world size to differ: ResumeRequirements). Every tensor dataset
// carries the XXH64 checksum of its bytes, verified on load: a damaged file is named with the
// tensor, and with checkpoint.fallback the run moves it aside (step_<N>.h5.corrupt) and resumes from
// the previous checkpoint.
//
// The contents are generic so every training mode fills them the same way: trainable parameters,
// optimizer state (named tensors + scalars), LR-schedule scalars, step counters, every rank's RNG
// stream states and data sampler cursors, the resolved configuration and the model signature.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "dist/consistency.hpp"
#include "dist/sampler.hpp"
#include "io/io_config.hpp"

namespace mdrl::io {

// Version 2 added the `xxh64` checksum attribute of every tensor dataset; version 1 files (no
// checksums) are still read, unverified.
inline constexpr int64_t kCheckpointFormatVersion = 2;
inline constexpr const char* kCheckpointFormat = "mdrl-checkpoint";
inline constexpr const char* kChecksumAttr = "xxh64";

// XXH64 (seed 0) of `size` bytes: the checksum of a tensor dataset's raw little-endian bytes, the
// same as Python's xxhash.xxh64(dataset[:].tobytes()).intdigest(). Several GB/s on one core.
uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0);

// A checkpoint whose bytes are damaged: a tensor failing its checksum (or missing it in a file of
// version 2 or later). The message names the file and the tensor. CheckpointManager::resume()
// falls back to the previous checkpoint on it when checkpoint.fallback is set.
class CheckpointDamagedError : public core::FormatError {
 public:
  CheckpointDamagedError(const std::string& message, std::string reason)
      : core::FormatError(message), reason_(std::move(reason)) {}
  // What is wrong, without the advice: "tensor '...' fails its checksum (...)".
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// Writing a checkpoint file failed (disk full, quota, a read-only or failing file system): thrown
// by write_checkpoint_file on every rank alike at the same point, so the caller can clean up
// together. The message is the first failing rank's error. The partial file is left open (its
// collective close is not safe after a failed write): the process must not reach MPI_Finalize
// normally (main aborts the job when HDF5 files are open after an error).
class CheckpointWriteError : public core::IoError {
 public:
  using core::IoError::IoError;
};

// One parameter of a model as the compatibility check sees it.
struct TensorSpec {
  std::string name;
  std::string dtype;  // "bfloat16", "float32", ...
  std::vector<int64_t> shape;
  bool operator==(const TensorSpec&) const = default;
};
using ModelSignature = std::vector<TensorSpec>;
// The signature of a named tensor list (in its order).
ModelSignature signature_of(const dist::NamedTensors& tensors);
// One exact 64-bit fingerprint of named tensors (names, dtypes, shapes and values through
// dist::tensor_checksum): identifies the base weights a LoRA checkpoint was trained on.
uint64_t weights_checksum(const dist::NamedTensors& tensors);

enum class Trainable { Full, Lora };
const char* trainable_name(Trainable t);

struct CheckpointState {
  int64_t step = 0;                         // training steps completed
  std::map<std::string, int64_t> counters;  // e.g. "epoch", "samples_seen", "optimizer_steps"

  Trainable trainable = Trainable::Full;
  dist::NamedTensors params;       // the trainable parameters: LoRA factors for LoRA, all weights otherwise
  ModelSignature model_signature;  // the whole model (frozen parameters included), for compatibility
  std::string base_checkpoint;     // LoRA: the base weights' folder or file
  uint64_t base_checksum = 0;      // LoRA: weights_checksum() of the base weights

  // Optimizer state as named tensors ("exp_avg/<param>", "exp_avg_sq/<param>"; '/' makes groups)
  // and scalars ("lr", "beta1", "step", ...).
  dist::NamedTensors optimizer_tensors;
  std::map<std::string, double> optimizer_scalars;
  std::map<std::string, double> schedule_scalars;  // LR schedule (e.g. "last_lr", "warmup_steps")

  // This rank's entries; the file holds every rank's, and load() returns the loading rank's.
  // Names (e.g. "sampling", "masking", "data_order") must agree across ranks.
  std::vector<std::pair<std::string, core::RngStream::State>> rng;
  std::vector<std::pair<std::string, dist::ShardedSampler::State>> samplers;

  std::string config_ini;  // config::Options::resolved_ini() of the run that wrote it

  std::string loaded_from;  // the file it was read from (set when reading; not written)
  int64_t world_size = 0;   // the ranks of the run that wrote it (set when reading; written from comm)
};

// What the running job needs a checkpoint to match before it resumes from it.
struct ResumeRequirements {
  ModelSignature model_signature;
  Trainable trainable = Trainable::Full;
  std::optional<uint64_t> base_checksum;  // LoRA: the loaded base weights' weights_checksum()
  // Whether a checkpoint of another world size may be read (modes whose per-rank state is only
  // random streams and global data cursors: SFT). Then rank r gets the saved streams of rank r, or,
  // where the writing run had no rank r, its own stream id continued from the furthest block any
  // saved rank had reached (a part of the stream no run has drawn); every sampler's (epoch, cursor)
  // must be the same on every saved rank (global cursors), else the file is refused. The run then
  // continues the same global data order, not bit-for-bit (other reductions, other noise per rank).
  bool other_world_size = false;
};

// Writes one checkpoint file at `path` (no temporary, no rename: CheckpointManager does that).
// Collective over comm. Each tensor is written by one rank (balanced by bytes), so ranks write in
// parallel; every rank must hold the same parameter and optimizer values.
void write_checkpoint_file(const std::string& path, MPI_Comm comm, const CheckpointState& state);
// Reads a checkpoint file after checking it against `req` and comm's size (core::FormatError
// naming the file and the first difference) and every tensor against its checksum
// (CheckpointDamagedError naming the tensor, thrown on every rank alike). Tensors come back on the
// CPU. Collective over comm.
CheckpointState read_checkpoint_file(const std::string& path, MPI_Comm comm, const ResumeRequirements& req);

class CheckpointManager {
 public:
  // Checkpoints live in <run_dir>/checkpoints/.
  CheckpointManager(MPI_Comm comm, std::string run_dir, CheckpointConfig cfg);

  const std::string& dir() const { return dir_; }
  int world_size() const;  // the size of the communicator
  // Whether checkpoint.every asks for a checkpoint after `step`.
  bool due(int64_t step) const { return cfg_.every > 0 && step > 0 && step % cfg_.every == 0; }
  // <dir>/step_<N>.h5
  std::string path_for_step(int64_t step) const;

  // Writes step_<N>.h5.tmp, renames it to step_<N>.h5, updates `latest` and applies keep_last.
  // Collective; returns the final path. When the file cannot be written (disk full, read-only file
  // system, I/O error) the temporary is removed and core::IoError, the same on every rank, names
  // the file, the reason (free space or read-only, from statvfs) and the intact previous
  // checkpoint the rerun resumes from; nothing older is deleted.
  std::string save(const CheckpointState& state);
  // Refuses (core::IoError naming run.dir, the reason and what to do) a checkpoint directory that
  // cannot be written: read-only, full, or not creatable. A probe file is created, written, flushed
  // and removed by rank 0. Collective; training modes call it before their first step.
  void ensure_writable() const;
  // The newest complete checkpoint, or none. Collective (rank 0 looks, every rank gets the answer).
  // A newest file that is not a readable checkpoint is an error naming it, not silently skipped
  // (with checkpoint.fallback it is returned, and resume() deals with it).
  std::optional<std::string> find_latest() const;
  // Reads the newest checkpoint; none when the run has no checkpoint yet. Collective. A damaged
  // newest checkpoint (unreadable, or a tensor failing its checksum) is an error naming it; with
  // checkpoint.fallback it is renamed to step_<N>.h5.corrupt with a warning (it leaves the
  // retention count, `latest` is pointed at the one loaded) and the next older one is tried, and
  // when none is intact that is an error.
  std::optional<CheckpointState> resume(const ResumeRequirements& req);
  CheckpointState load(const std::string& path, const ResumeRequirements& req) const;

  // Tests: make save() stop after the temporary file is complete, as a crash before the rename would.
  void set_crash_before_rename_for_testing(bool on) { crash_before_rename_ = on; }

 private:
  MPI_Comm comm_;
  std::string dir_;
  CheckpointConfig cfg_;
  bool crash_before_rename_ = false;
};

}  // namespace mdrl::io
