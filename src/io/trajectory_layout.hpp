// Internal to the trajectory store: the datasets of a trajectory file (src/io/README.md), the
// writer's state for its open segment and its buffer of steps not yet written. Shared by
// trajectory_writer.cpp, trajectory_file.cpp and trajectory_reader.cpp so the three agree on names
// and types.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "io/hdf5.hpp"
#include "io/trajectory_store.hpp"

namespace mdrl::io::traj {

// Datasets under /samples with one row per sample: [N] (per_position false) or [N, L].
struct Column {
  const char* name;
  h5::Type type;
  bool per_position;
};
inline constexpr Column kSampleColumns[] = {
    {"prompt_offset", h5::Type::I64, false}, {"prompt_length", h5::Type::I32, false},
    {"completion_ids", h5::Type::I32, true}, {"step_map", h5::Type::I16, true},
    {"confidence", h5::Type::F32, true},     {"old_logprob", h5::Type::F32, true},
    {"reward", h5::Type::F64, false},        {"advantage", h5::Type::F64, false},
    {"group_id", h5::Type::I64, false},      {"rank", h5::Type::I32, false},
    {"step", h5::Type::I64, false},
};
inline constexpr size_t kNumSampleColumns = std::size(kSampleColumns);
// Besides: samples/rewards [N, K] float64 and samples/prompt_ids [T] int32 (all prompts' tokens).

// Bytes one sample occupies in the sample datasets (its prompt tokens not included).
inline int64_t sample_row_bytes(int64_t completion_length, bool has_logprob, int64_t num_rewards) {
  int64_t n = 8 * num_rewards;
  for (const auto& c : kSampleColumns)
    if (has_logprob || c.name != std::string("old_logprob"))
      n += static_cast<int64_t>(h5::type_size(c.type)) * (c.per_position ? completion_length : 1);
  return n;
}

// Datasets under /steps with one row per training step.
inline constexpr Column kStepColumns[] = {
    {"step", h5::Type::I64, false},
    {"first_sample", h5::Type::I64, false},
    {"num_samples", h5::Type::I64, false},
    {"decoding", h5::Type::I32, false},  // index into the root attribute decoding_settings
};

}  // namespace mdrl::io::traj

namespace mdrl::io {

struct TrajectoryWriter::OpenFile {
  h5::File file;
  std::map<std::string, h5::Dataset> ds;  // "samples/step_map", "steps/step", ...
  std::string final_path;  // seg-<first step>.h5; the file is open as final_path + ".tmp"
  int64_t first_step = 0;  // the steps the segment may hold (trajectory.steps_per_file): [first_step, last_step]
  int64_t last_step = 0;
  int64_t last_recorded = 0;  // the last step written to it
  int64_t rows = 0, tokens = 0, steps = 0;  // used: samples, prompt tokens, steps (root attributes num_*)
  int64_t cap_rows = 0, cap_tokens = 0, cap_steps = 0;  // current extents of the datasets
  int64_t completion_length = 0;
  bool has_logprob = false;
  std::vector<std::string> decoding;  // the table that steps/decoding indexes

  // Grows the datasets (collectively) to hold `need_rows` samples, `need_tokens` prompt tokens and
  // `need_steps` steps. Exactly, not by doubling: shrinking an over-allocated dataset at close
  // frees chunks differently on different ranks in HDF5 1.10's MPI-IO driver and hangs its
  // closing truncate, so extents never run ahead of the data.
  void reserve(int64_t need_rows, int64_t need_tokens, int64_t need_steps) {
    resize(std::max(need_rows, cap_rows), std::max(need_tokens, cap_tokens), std::max(need_steps, cap_steps));
  }
  // Sets the extents to the used sizes (before closing, after dropping steps on resume).
  void fit() { resize(rows, tokens, steps); }
  void resize(int64_t r, int64_t t, int64_t s) {
    for (auto& [name, d] : ds) {
      const bool token = name == "samples/prompt_ids", sample = name.rfind("samples/", 0) == 0;
      const int64_t want = token ? t : sample ? r : s, have = token ? cap_tokens : sample ? cap_rows : cap_steps;
      if (want != have) d.set_rows(want);
    }
    cap_rows = r;
    cap_tokens = t;
    cap_steps = s;
  }
  void close() {
    fit();
    ds.clear();  // every object before the file: the MPI-IO driver refuses to close it otherwise
    file.close();
  }
};

// The steps appended since the last write, as this rank saw them: append() only checks and copies,
// without communication. write_pending() first exchanges every rank's table of steps (one
// allgather) and takes every decision from the exchanged tables, alike on every rank.
struct TrajectoryWriter::Pending {
  struct Step {
    int64_t step = 0;
    int64_t rows = 0, tokens = 0;  // this rank's samples and prompt tokens
    int64_t width = -1;            // completion length; -1 without samples
    int64_t logprob = -1;          // 1 = old log-probs present, 0 = absent, -1 without samples
    bool bad = false;              // the batch failed its checks (this rank's message: `error`)
    std::string decoding;          // decoding settings (rank 0's are recorded)
  };
  // A step as every rank knows it after the exchange.
  struct Agreed {
    int64_t step = 0, total_rows = 0, total_tokens = 0;
    int64_t l = -1, logprob = -1;       // as Step::width and Step::logprob, for the step's samples
    std::vector<int64_t> rows, tokens;  // [world]: each rank's samples and prompt tokens
    std::string decoding;               // rank 0's text
  };
  std::vector<Step> steps;
  std::vector<Agreed> agreed;  // during a write: `steps` as agreed, one per entry of `steps`
  std::string error;  // the first failed check of a buffered batch on this rank
  // This rank's rows, steps concatenated, in file types: one buffer per kSampleColumns entry
  // (prompt_offset stays empty: offsets are known only when the rows are placed in the file) and
  // samples/rewards last.
  std::vector<std::vector<char>> cols = std::vector<std::vector<char>>(traj::kNumSampleColumns + 1);
  std::vector<int32_t> prompt_ids;
  // Of this rank's rows and prompt tokens, those already written by the current write (it writes
  // one group of steps per file).
  int64_t rows_done = 0, tokens_done = 0, logprob_rows_done = 0;
  // The node writer's copy of its node's rows of a group, in file order (trajectory_file.cpp).
  std::vector<std::vector<char>> node_cols = std::vector<std::vector<char>>(traj::kNumSampleColumns + 1);
  std::vector<int32_t> node_tokens;

  void clear() {
    steps.clear();
    agreed.clear();
    error.clear();
    for (auto& c : cols) c.clear();  // the capacity stays: no allocation in the steady state
    prompt_ids.clear();
    rows_done = tokens_done = logprob_rows_done = 0;
  }
};

}  // namespace mdrl::io
