// TrajectoryWriter: collective appends of each step's samples to the run's trajectory file(s)
// (format in src/io/README.md). Per step: one allgather of the ranks' counts, one collective extend
// per dataset, one hyperslab write per dataset at the rank's prefix-sum offset;
// the step's index row and the counts are written last and the file flushed, so a crash loses at
// most the step being written.
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/file_util.hpp"
#include "io/hdf5.hpp"
#include "io/trajectory_layout.hpp"
#include "io/trajectory_store.hpp"

namespace mdrl::io {

namespace fs = std::filesystem;

namespace {

// A contiguous CPU copy of `t` in `dtype` (an empty [0] tensor when t is undefined).
at::Tensor host(const at::Tensor& t, at::ScalarType dtype) {
  if (!t.defined()) return at::empty({0}, at::TensorOptions().dtype(dtype));
  return t.detach().to(at::kCPU).to(dtype).contiguous();
}

// Checks that `t` is [B] or [B, width] (width < 0: any) and returns its width (1 for [B]).
int64_t check_shape(const at::Tensor& t, const char* name, int64_t b, int dims, int64_t width) {
  MDRL_CHECK(t.defined(), core::InternalError, std::string("trajectory batch: ") + name + " is undefined");
  MDRL_CHECK(t.dim() == dims && t.size(0) == b && (dims == 1 || width < 0 || t.size(1) == width), core::InternalError,
             std::string("trajectory batch: ") + name + " has shape " + c10::str(t.sizes()) + ", expected [" +
                 std::to_string(b) + (dims == 2 ? ", " + (width < 0 ? std::string("*") : std::to_string(width)) : "") +
                 "]");
  return dims == 2 ? t.size(1) : 1;
}

}  // namespace

TrajectoryWriter::TrajectoryWriter(MPI_Comm comm, std::string dir, TrajectoryMeta meta, TrajectoryConfig cfg)
    : comm_(comm), dir_(std::move(dir)), meta_(std::move(meta)), cfg_(cfg) {
  cfg_.validate();
  MDRL_CHECK(!meta_.reward_names.empty(), core::InternalError, "trajectory store: no reward component names given");
  MDRL_CHECK(cfg_.compression == 0 || h5::deflate_available(), core::ConfigError,
             "trajectory.compression = " + std::to_string(cfg_.compression) +
                 " but this HDF5 library cannot write deflate-compressed data; set trajectory.compression = 0");
  int rank = 0;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm_, &rank));
  std::error_code ec;
  if (rank == 0) fs::create_directories(dir_, ec);
  const int64_t ok = bcast_int(comm_, ec ? 0 : 1);
  MDRL_CHECK(ok == 1, core::IoError, "cannot create the trajectory directory " + dir_ + (ec ? ": " + ec.message() : ""));
}

TrajectoryWriter::~TrajectoryWriter() {
  try {
    close();
  } catch (const std::exception& e) {
    core::log::error() << "closing trajectory file: " << e.what();
  }
}

void TrajectoryWriter::close() {
  if (!file_) return;
  auto f = std::move(file_);
  f->close();
}

std::string TrajectoryWriter::path_for_step(int64_t step) const {
  if (cfg_.steps_per_file <= 0) return (fs::path(dir_) / "trajectories.h5").string();
  char name[48];
  std::snprintf(name, sizeof name, "steps_%08lld.h5", static_cast<long long>(step - step % cfg_.steps_per_file));
  return (fs::path(dir_) / name).string();
}

void TrajectoryWriter::append(const TrajectoryBatch& batch) {
  int rank = 0, world = 1;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm_, &rank));
  MDRL_CHECK_MPI(MPI_Comm_size(comm_, &world));
  const int64_t k = static_cast<int64_t>(meta_.reward_names.size());

  // ---- this rank's rows, checked and converted -------------------------------------------------
  const int64_t b = batch.completion_ids.defined() ? batch.completion_ids.size(0) : 0;
  int64_t width = -1;
  const bool has_logprob = batch.old_logprob.defined();
  std::map<std::string, at::Tensor> cols;
  std::vector<int32_t> prompt_tokens;
  std::vector<int32_t> prompt_lengths;
  // A bad batch on one rank must fail every rank (the others would wait in the collectives):
  // the error travels with the counts.
  std::string error;
  if (b > 0) try {
    width = check_shape(batch.completion_ids, "completion_ids", b, 2, -1);
    check_shape(batch.step_map, "step_map", b, 2, width);
    check_shape(batch.confidence, "confidence", b, 2, width);
    check_shape(batch.rewards, "rewards", b, 2, k);
    check_shape(batch.reward, "reward", b, 1, -1);
    check_shape(batch.advantage, "advantage", b, 1, -1);
    check_shape(batch.group_id, "group_id", b, 1, -1);
    if (has_logprob) check_shape(batch.old_logprob, "old_logprob", b, 2, width);
    const int64_t p = check_shape(batch.prompt_ids, "prompt_ids", b, 2, -1);
    if (batch.prompt_mask.defined()) check_shape(batch.prompt_mask, "prompt_mask", b, 2, p);
    const at::Tensor ids = host(batch.prompt_ids, at::kInt);
    const at::Tensor mask = batch.prompt_mask.defined() ? host(batch.prompt_mask, at::kBool) : at::Tensor();
    const int32_t* id = ids.data_ptr<int32_t>();
    for (int64_t i = 0; i < b; ++i) {
      int32_t n = 0;
      for (int64_t j = 0; j < p; ++j)
        if (!mask.defined() || mask.data_ptr<bool>()[i * p + j]) {
          prompt_tokens.push_back(id[i * p + j]);
          ++n;
        }
      prompt_lengths.push_back(n);
    }
    const at::Tensor sm = host(batch.step_map, at::kLong);
    if (sm.numel() > 0) {
      const int64_t lo = sm.min().item<int64_t>(), hi = sm.max().item<int64_t>();
      MDRL_CHECK(lo >= -1 && hi <= INT16_MAX, core::InternalError,
                 "trajectory batch: step_map values must lie in [-1, 32767] (stored as int16); got [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    cols["completion_ids"] = host(batch.completion_ids, at::kInt);
    cols["step_map"] = host(batch.step_map, at::kShort);
    cols["confidence"] = host(batch.confidence, at::kFloat);
    if (has_logprob) cols["old_logprob"] = host(batch.old_logprob, at::kFloat);
    cols["reward"] = host(batch.reward, at::kDouble);
    cols["advantage"] = host(batch.advantage, at::kDouble);
    cols["group_id"] = host(batch.group_id, at::kLong);
    cols["rank"] = at::full({b}, rank, at::kInt);
    cols["step"] = at::full({b}, batch.step, at::kLong);
    cols["rewards"] = host(batch.rewards, at::kDouble);
  } catch (const core::Error& e) {
    error = e.what();
  }

  // ---- agree on counts and shapes -----------------------------------------------------------------
  constexpr int kH = 6;
  const int64_t mine[kH] = {b, static_cast<int64_t>(prompt_tokens.size()), width, b > 0 ? int64_t{has_logprob} : -1,
                            batch.step, error.empty() ? 0 : 1};
  std::vector<int64_t> all(static_cast<size_t>(kH * world));
  MDRL_CHECK_MPI(MPI_Allgather(mine, kH, MPI_INT64_T, all.data(), kH, MPI_INT64_T, comm_));
  MDRL_CHECK(error.empty(), core::InternalError, error);
  for (int r = 0; r < world; ++r)
    MDRL_CHECK(all[static_cast<size_t>(kH * r + 5)] == 0, core::InternalError,
               "trajectory append at step " + std::to_string(batch.step) + ": rank " + std::to_string(r) +
                   " was given an invalid batch (see its message)");
  int64_t total = 0, total_tokens = 0, my_row = 0, my_token = 0, l = -1, logprob = -1;
  for (int r = 0; r < world; ++r) {
    const int64_t* h = &all[static_cast<size_t>(kH * r)];
    MDRL_CHECK(h[4] == batch.step, core::MismatchError,
               "trajectory append: rank " + std::to_string(r) + " appends step " + std::to_string(h[4]) +
                   " while rank " + std::to_string(rank) + " appends step " + std::to_string(batch.step));
    if (r < rank) {
      my_row += h[0];
      my_token += h[1];
    }
    total += h[0];
    total_tokens += h[1];
    if (h[0] == 0) continue;
    MDRL_CHECK(l < 0 || (h[2] == l && h[3] == logprob), core::MismatchError,
               "trajectory append at step " + std::to_string(batch.step) +
                   ": ranks disagree on the completion length or on whether old log-probs are present");
    l = h[2];
    logprob = h[3];
  }
  if (total == 0) return;  // nothing to record
  MDRL_CHECK(l > 0, core::InternalError, "trajectory append: completion length must be at least 1");
  const std::string decoding = bcast_string(comm_, batch.decoding);

  // ---- the file for this step --------------------------------------------------------------------
  if (first_append_) {
    // Files of an interrupted run that start after this step are superseded (see append()).
    if (rank == 0 && cfg_.steps_per_file > 0) {
      std::error_code ec;
      for (const auto& p : TrajectoryReader::run_files(dir_)) {
        const std::string stem = fs::path(p).stem().string();  // steps_00000120
        if (stem.rfind("steps_", 0) == 0 && std::stoll(stem.substr(6)) > batch.step) fs::remove(p, ec);
      }
    }
    MDRL_CHECK_MPI(MPI_Barrier(comm_));
    first_append_ = false;
  }
  if (!file_ || batch.step < file_->first_step || batch.step > file_->last_step) {
    close();
    const int64_t row_bytes = l * 14 + 64;  // ids, step map, confidence, log-prob per position
    const int64_t chunk_rows = std::clamp<int64_t>(total, 1, std::max<int64_t>(1, (4 << 20) / row_bytes));
    open_for(batch, l, chunk_rows, logprob == 1);
  }
  OpenFile& f = *file_;
  MDRL_CHECK(f.completion_length == l && f.has_logprob == (logprob == 1), core::FormatError,
             f.file.path() + " holds completions of length " + std::to_string(f.completion_length) +
                 (f.has_logprob ? " with" : " without") + " old log-probs; step " + std::to_string(batch.step) +
                 " has length " + std::to_string(l) + (logprob == 1 ? " with" : " without") +
                 " (settings changed within a file? use trajectory.steps_per_file or a new run directory)");
  int32_t decoding_index = 0;
  auto it = std::find(f.decoding.begin(), f.decoding.end(), decoding);
  if (it == f.decoding.end()) {
    f.decoding.push_back(decoding);
    f.file.set_attr("decoding_settings", f.decoding);
    decoding_index = static_cast<int32_t>(f.decoding.size() - 1);
  } else {
    decoding_index = static_cast<int32_t>(it - f.decoding.begin());
  }

  // ---- extend collectively, write at the prefix-sum offsets -------------------------------------
  // Compressed chunks can only be written collectively (HDF5's rule). Uncompressed, each rank's
  // rows are one contiguous block per dataset, so independent writes skip the two-phase exchange.
  const auto xfer = cfg_.compression > 0 || cfg_.collective_io ? h5::Transfer::Collective : h5::Transfer::Independent;
  f.reserve(f.rows + total, f.tokens + total_tokens, f.steps + 1);
  std::vector<int64_t> offsets(static_cast<size_t>(b));
  for (int64_t i = 0, o = f.tokens + my_token; i < b; ++i) {
    offsets[static_cast<size_t>(i)] = o;
    o += prompt_lengths[static_cast<size_t>(i)];
  }
  f.ds["samples/prompt_ids"].write_rows(f.tokens + my_token, static_cast<int64_t>(prompt_tokens.size()), h5::Type::I32,
                                        prompt_tokens.data(), xfer);
  if (b > 0) {
    cols["prompt_offset"] = at::from_blob(offsets.data(), {b}, at::kLong);
    cols["prompt_length"] = at::from_blob(prompt_lengths.data(), {b}, at::kInt);
  }
  for (const auto& c : traj::kSampleColumns) {
    const auto ds = f.ds.find(std::string("samples/") + c.name);
    if (ds == f.ds.end()) continue;  // old_logprob in a file without
    const void* data = b > 0 ? cols.at(c.name).data_ptr() : nullptr;
    ds->second.write_rows(f.rows + my_row, b, c.type, data, xfer);
  }
  f.ds["samples/rewards"].write_rows(f.rows + my_row, b, h5::Type::F64, b > 0 ? cols["rewards"].data_ptr() : nullptr,
                                     xfer);
  for (const auto& [name, t] : cols) bytes_appended_ += t.numel() * static_cast<int64_t>(t.element_size());
  bytes_appended_ += static_cast<int64_t>(prompt_tokens.size() * sizeof(int32_t));
  // The step's index row and the counts last: readers and resume trust only what they cover.
  const int64_t n = rank == 0 ? 1 : 0;
  const int64_t index_row[3] = {batch.step, f.rows, total};
  for (int c = 0; c < 3; ++c)
    f.ds[std::string("steps/") + traj::kStepColumns[c].name].write_rows(f.steps, n, h5::Type::I64, &index_row[c], xfer);
  f.ds["steps/decoding"].write_rows(f.steps, n, h5::Type::I32, &decoding_index, xfer);
  f.rows += total;
  f.tokens += total_tokens;
  f.steps += 1;
  f.file.set_attr("num_steps", f.steps);
  f.file.set_attr("num_samples", f.rows);
  f.file.set_attr("num_prompt_tokens", f.tokens);
  f.file.flush();
}

}  // namespace mdrl::io
