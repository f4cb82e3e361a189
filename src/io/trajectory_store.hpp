// The rollout trajectory store (DESIGN.md data flow step 6; file format in src/io/README.md): one
// HDF5 segment file per checkpoint interval under <run.dir>/trajectories/, seg-<first step>.h5,
// written as seg-<first step>.h5.tmp and closed, fsync'ed and renamed when the interval ends
// (flush(), called right before each checkpoint), so a hard kill can lose only the steps after the
// last checkpoint, which the resumed run redoes; finished segments are never written again. Every
// rank buffers its
// samples of `trajectory.flush_every` training steps in memory; then all ranks write them together,
// one collective extend and one write per dataset, each rank's rows at the offsets given by prefix
// sums of the ranks' sample counts, so each step's samples lie in rank order. The step map makes
// every intermediate decoding state reconstructible from the final tokens.
//
// TrajectoryWriter is used by the GRPO loops; TrajectoryReader by tools and tests (one process).
#pragma once

#include <ATen/core/Tensor.h>
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/io_config.hpp"

namespace mdrl::io {

// 2: segment files (seg-<first step>.h5); 1: trajectories.h5 / steps_<first>.h5, still read.
inline constexpr int64_t kTrajectoryFormatVersion = 2;
inline constexpr const char* kTrajectoryFormat = "mdrl-trajectories";

// Facts fixed for a run, stored as root attributes of every file.
struct TrajectoryMeta {
  std::string config_ini;                 // config::Options::resolved_ini()
  std::vector<std::string> reward_names;  // the columns of TrajectoryBatch::rewards, in order
  int64_t mask_token_id = -1;             // the model's mask token, for rebuilding states; -1 = unknown
};

// One rank's samples of one training step. B may differ between ranks (0 included: then the
// tensors may be left undefined). Integer tensors may have any integer dtype, float tensors any
// floating dtype; any device.
struct TrajectoryBatch {
  int64_t step = 0;            // training step, identical on every rank
  at::Tensor prompt_ids;       // [B, P] integer
  at::Tensor prompt_mask;      // [B, P] bool, true = real token (padding is not stored); undefined = all real
  at::Tensor completion_ids;   // [B, L] integer
  at::Tensor step_map;         // [B, L] integer: the decoding step (0-based) that unmasked each position
  at::Tensor confidence;       // [B, L] float: the confidence of each token when it was unmasked
  at::Tensor rewards;          // [B, K] float: per reward component (TrajectoryMeta::reward_names)
  at::Tensor reward;           // [B] float: weighted total reward
  at::Tensor advantage;        // [B] float
  at::Tensor group_id;         // [B] integer: global id of the sample's prompt group
  at::Tensor old_logprob;      // [B, L] float, or undefined when the run computes none
  std::string decoding;        // decoding settings (JSON text); rank 0's text is recorded
};

class TrajectoryWriter {
 public:
  // `dir` is created if missing, and partial segments (*.h5.tmp) a killed run left there are
  // deleted. A segment is created at the first write that has samples. Collective over comm.
  TrajectoryWriter(MPI_Comm comm, std::string dir, TrajectoryMeta meta, TrajectoryConfig cfg);
  ~TrajectoryWriter();
  TrajectoryWriter(const TrajectoryWriter&) = delete;
  TrajectoryWriter& operator=(const TrajectoryWriter&) = delete;

  // Appends this rank's samples of one step. Collective over comm in effect: every rank calls it
  // once per step, with the same step, though it communicates only every `trajectory.flush_every`
  // calls, when all ranks write the buffered steps together. Errors therefore surface at that
  // write, on every rank alike: a bad batch on any rank, ranks on different steps, or completion
  // settings that change within a file throw there, the buffered steps are discarded, and the
  // writer stays usable. The first write of a writer (after a resume: at the first step appended,
  // s) deletes the finished segments that start at or after s and cuts a segment that holds steps
  // before and after s back to the steps before s (a copy renamed over it): the store then reads as
  // if never interrupted.
  void append(const TrajectoryBatch& batch);
  // Writes the buffered steps and finishes the current segment: closed, fsync'ed, renamed to
  // seg-<first step>.h5; the next write starts a new one. Collective. The training loop calls it
  // right before saving a checkpoint, so finished segments hold every step the checkpoint covers: a
  // run resumed from that checkpoint redoes, and drops, only later steps.
  void flush();
  // As flush() (also done by the destructor, which cannot report errors). Collective.
  void close();

  // Path of the finished segment that holds `step`; empty when none does.
  std::string path_for_step(int64_t step) const;
  // seg-<first_step, 8 digits>.h5
  static std::string segment_name(int64_t first_step);
  // Bytes of sample data handed to append() so far by this rank (for benchmarks).
  int64_t bytes_appended() const { return bytes_appended_; }
  // Steps appended but not yet written.
  int64_t buffered_steps() const;

  struct OpenFile;  // internal (trajectory_layout.hpp)
  struct Pending;

 private:
  // Creates the segment (as its .tmp) whose first step is `step`, for completions of
  // `completion_length`, with or without old log-probs, `chunk_rows` samples per chunk. Collective.
  void start_segment(int64_t step, int64_t completion_length, bool has_logprob, int64_t chunk_rows);
  // Closes the open segment, then rank 0 fsyncs it and renames it to its final name. Collective.
  void finish_segment();
  // A resumed run's first write, at step `s`: rank 0 deletes or cuts back the finished segments of
  // the interrupted run that hold steps >= s. Collective.
  void drop_steps_from(int64_t s);
  // Writes the buffered steps (one extend and one write per dataset) to the open segment, starting
  // one when needed. Collective.
  void write_pending();
  // Writes the agreed buffered steps [begin, end) (Pending::agreed), which lie in the open segment.
  // Collective.
  void write_group(size_t begin, size_t end);

  MPI_Comm comm_;
  int rank_ = 0, world_ = 1;
  // The ranks of comm_ on this rank's node (ascending); the first writes the node's rows.
  MPI_Comm node_ = MPI_COMM_NULL;
  std::vector<int> node_members_;
  std::vector<int> node_index_;  // [world]: a rank's index in node_members_, -1 off this node
  std::string dir_;
  TrajectoryMeta meta_;
  TrajectoryConfig cfg_;
  std::unique_ptr<OpenFile> file_;
  std::unique_ptr<Pending> pending_;
  bool first_write_ = true;
  int64_t first_step_ = INT64_MIN;  // the first step appended (the resume point); INT64_MIN: none yet
  int64_t run_length_ = -1, run_logprob_ = -1;  // the settings of this writer's segments (-1: none yet)
  bool decoding_sent_ = false;  // rank 0's last decoding settings, known to every rank
  std::string last_decoding_;
  int64_t bytes_appended_ = 0;
};

// One stored sample.
struct TrajectorySample {
  int64_t index = 0;  // row in the file
  int64_t step = 0;
  int32_t rank = 0;
  int64_t group_id = 0;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> completion_ids;  // [L]
  std::vector<int16_t> step_map;        // [L]
  std::vector<float> confidence;        // [L]
  std::vector<float> old_logprob;       // [L], empty when the file has none
  std::vector<double> rewards;          // [K]
  double reward = 0, advantage = 0;

  // Decoding steps the sample took: 1 + the largest step in the step map (0 when L = 0).
  int64_t num_decoding_steps() const;
  // The completion after `steps_done` decoding steps (x_{steps_done}): a position keeps its final
  // token when it was unmasked at a step < steps_done and is `mask_id` otherwise. steps_done = 0 is
  // the fully masked start; steps_done >= num_decoding_steps() the final completion.
  std::vector<int32_t> state_after(int64_t steps_done, int32_t mask_id) const;
};

struct TrajectoryStep {
  int64_t step = 0;          // training step
  int64_t first_sample = 0;  // row of its first sample
  int64_t num_samples = 0;
  std::string decoding;      // decoding settings recorded for the step
};

class TrajectoryReader {
 public:
  // Opens one file, or a directory's segments (run_files) as one history in step order, read-only
  // in this process alone. Throws core::IoError (missing, truncated, corrupt) or core::FormatError
  // (not a trajectory file, a newer format, segments that overlap or disagree on the completion
  // length, old log-probs or reward names) naming the file.
  explicit TrajectoryReader(const std::string& path);
  ~TrajectoryReader();
  TrajectoryReader(TrajectoryReader&&) noexcept;

  const std::string& path() const { return path_; }
  const std::vector<std::string>& files() const { return files_; }  // the files read, in step order
  int64_t format_version() const { return format_version_; }
  const std::string& config_ini() const { return config_ini_; }
  const std::string& git_commit() const { return git_commit_; }
  const std::string& created() const { return created_; }
  int64_t world_size() const { return world_size_; }
  int64_t mask_token_id() const { return mask_token_id_; }
  int64_t completion_length() const { return completion_length_; }
  bool has_old_logprob() const { return has_old_logprob_; }
  const std::vector<std::string>& reward_names() const { return reward_names_; }

  const std::vector<TrajectoryStep>& steps() const { return steps_; }
  int64_t num_samples() const { return num_samples_; }
  // Samples [first, first + count), in history order (steps ascending; within a step, rank order).
  std::vector<TrajectorySample> read(int64_t first, int64_t count) const;
  TrajectorySample sample(int64_t index) const { return read(index, 1).at(0); }
  std::vector<TrajectorySample> step_samples(size_t step_index) const;

  // The trajectory files of a run directory's trajectories/ folder (seg-*.h5, and the version-1
  // names trajectories.h5 and steps_*.h5), ordered by first step; temporaries (*.tmp) and files
  // moved aside (*.corrupt) are not listed.
  static std::vector<std::string> run_files(const std::string& dir);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  std::vector<std::string> files_;
  int64_t format_version_ = 0, world_size_ = 0, mask_token_id_ = -1, completion_length_ = 0, num_samples_ = 0;
  bool has_old_logprob_ = false;
  std::string config_ini_, git_commit_, created_;
  std::vector<std::string> reward_names_;
  std::vector<TrajectoryStep> steps_;
};

}  // namespace mdrl::io
