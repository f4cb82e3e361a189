// Internal to the trajectory store: the datasets of a trajectory file (src/io/README.md) and the
// writer's state for its open file. Shared by trajectory_writer.cpp, trajectory_file.cpp and
// trajectory_reader.cpp so the three agree on names and types.
#pragma once

#include <algorithm>
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
// Besides: samples/rewards [N, K] float64 and samples/prompt_ids [T] int32 (all prompts' tokens).
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
  int64_t first_step = 0;  // the steps the file may hold: [first_step, last_step]
  int64_t last_step = 0;
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

}  // namespace mdrl::io
