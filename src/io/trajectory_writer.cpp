// TrajectoryWriter: buffered collective appends of each step's samples to the run's trajectory
// segments (format in src/io/README.md). append() checks the batch and copies this rank's rows into
// the buffer, without any communication: a collective per step would make every rank wait for the
// slowest at every step. Every `trajectory.flush_every` appends, and in flush() / close(), the ranks
// exchange their tables of buffered steps and write them together (trajectory_file.cpp): the fixed
// costs of a write (collectives, extends, metadata, MPI-IO calls) are shared by several steps, which
// is what makes small per-step batches write at disk speed. flush() also finishes the segment
// (closed, fsync'ed, renamed from its .tmp name), so a hard kill never touches a finished segment.
#include <ATen/ATen.h>

#include <algorithm>
#include <exception>
#include <filesystem>

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

// Checks that `t` is [B] or [B, width] (width < 0: any) and returns its width (1 for [B]).
int64_t check_shape(const at::Tensor& t, const char* name, int64_t b, int dims, int64_t width) {
  MDRL_CHECK(t.defined(), core::InternalError, std::string("trajectory batch: ") + name + " is undefined");
  MDRL_CHECK(t.dim() == dims && t.size(0) == b && (dims == 1 || width < 0 || t.size(1) == width), core::InternalError,
             std::string("trajectory batch: ") + name + " has shape " + c10::str(t.sizes()) + ", expected [" +
                 std::to_string(b) + (dims == 2 ? ", " + (width < 0 ? std::string("*") : std::to_string(width)) : "") +
                 "]");
  return dims == 2 ? t.size(1) : 1;
}

at::ScalarType scalar_type(h5::Type t) {
  switch (t) {
    case h5::Type::I16: return at::kShort;
    case h5::Type::I32: return at::kInt;
    case h5::Type::I64: return at::kLong;
    case h5::Type::F32: return at::kFloat;
    case h5::Type::F64: return at::kDouble;
    default: throw core::InternalError(std::string("trajectory store: no tensor type for ") + h5::type_name(t));
  }
}

// Appends `t` (any dtype, any device) converted to `dtype`, row-major, to `buf`: one conversion
// straight into the buffer, no intermediate tensor.
void append_rows(std::vector<char>& buf, const at::Tensor& t, at::ScalarType dtype) {
  const size_t at_byte = buf.size();
  buf.resize(at_byte + static_cast<size_t>(t.numel()) * c10::elementSize(dtype));
  if (t.numel() > 0)
    at::from_blob(buf.data() + at_byte, t.sizes(), at::TensorOptions().dtype(dtype)).copy_(t.detach());
}

}  // namespace

TrajectoryWriter::TrajectoryWriter(MPI_Comm comm, std::string dir, TrajectoryMeta meta, TrajectoryConfig cfg)
    : comm_(comm), dir_(std::move(dir)), meta_(std::move(meta)), cfg_(cfg), pending_(std::make_unique<Pending>()) {
  cfg_.validate();
  MDRL_CHECK(!meta_.reward_names.empty(), core::InternalError, "trajectory store: no reward component names given");
  MDRL_CHECK(cfg_.compression == 0 || h5::deflate_available(), core::ConfigError,
             "trajectory.compression = " + std::to_string(cfg_.compression) +
                 " but this HDF5 library cannot write deflate-compressed data; set trajectory.compression = 0");
  MDRL_CHECK_MPI(MPI_Comm_rank(comm_, &rank_));
  MDRL_CHECK_MPI(MPI_Comm_size(comm_, &world_));
  std::error_code ec;
  if (rank_ == 0) fs::create_directories(dir_, ec);
  // Partial segments are only ever left by a killed run: nobody else writes here while a run is alive.
  if (rank_ == 0 && !ec)
    for (const auto& e : fs::directory_iterator(dir_, ec))
      if (e.path().extension() == ".tmp" && e.path().filename().string().rfind("seg-", 0) == 0) {
        fs::remove(e.path(), ec);
        if (ec) break;
      }
  const int64_t ok = bcast_int(comm_, ec ? 0 : 1);
  MDRL_CHECK(ok == 1, core::IoError,
             "cannot create the trajectory directory " + dir_ + " or delete partial segments in it" +
                 (ec ? ": " + ec.message() : "") + "; check its permissions");
  // The ranks sharing this node: one of them writes the node's rows (trajectory_file.cpp). Without
  // trajectory.node_writer every rank is a "node" of its own.
  if (cfg_.node_writer)
    MDRL_CHECK_MPI(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_));
  else
    MDRL_CHECK_MPI(MPI_Comm_split(comm_, rank_, 0, &node_));
  int node_size = 1;
  MDRL_CHECK_MPI(MPI_Comm_size(node_, &node_size));
  node_members_.resize(static_cast<size_t>(node_size));
  MDRL_CHECK_MPI(MPI_Allgather(&rank_, 1, MPI_INT, node_members_.data(), 1, MPI_INT, node_));
  node_index_.assign(static_cast<size_t>(world_), -1);
  for (size_t i = 0; i < node_members_.size(); ++i)
    node_index_[static_cast<size_t>(node_members_[i])] = static_cast<int>(i);
}

TrajectoryWriter::~TrajectoryWriter() {
  if (std::uncaught_exceptions() > 0) {
    // Unwinding from an error on this rank (a dead-rank case): writing the buffer and finishing the
    // segment are collective and would wait forever for ranks that are elsewhere. The open segment
    // stays a .tmp (a resumed run deletes it; finished segments are untouched) and the error ends
    // the job.
    (void)file_.release();
    return;
  }
  try {
    close();
  } catch (const std::exception& e) {
    core::log::error() << "closing trajectory file: " << e.what();
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (node_ != MPI_COMM_NULL && finalized == 0) MPI_Comm_free(&node_);
}

int64_t TrajectoryWriter::buffered_steps() const { return static_cast<int64_t>(pending_->steps.size()); }

void TrajectoryWriter::flush() {
  write_pending();
  finish_segment();
}

void TrajectoryWriter::close() { flush(); }

std::string TrajectoryWriter::segment_name(int64_t first_step) {
  char name[48];
  std::snprintf(name, sizeof name, "seg-%08lld.h5", static_cast<long long>(first_step));
  return name;
}

std::string TrajectoryWriter::path_for_step(int64_t step) const {
  for (const auto& path : TrajectoryReader::run_files(dir_)) {
    const TrajectoryReader r(path);
    if (!r.steps().empty() && r.steps().front().step <= step && step <= r.steps().back().step) return path;
  }
  return {};
}

void TrajectoryWriter::write_pending() {
  Pending& q = *pending_;
  if (q.steps.empty()) return;
  // Emptied however this ends: after an error close() and the destructor must not write the same
  // rows again (every rank fails alike, so the ranks stay in step).
  struct Clear {
    Pending& q;
    ~Clear() { q.clear(); }
  } clear{q};

  // ---- every rank's table of buffered steps, in one allgather -------------------------------------
  // Fixed size: a rank holds at most flush_every steps. Row 0: {steps, bad batches, decoding
  // settings changed (rank 0), first step appended to this writer}; then one row per step: {step,
  // samples, prompt tokens, completion length, old log-probs, bad}.
  constexpr size_t kW = 6;
  const size_t n = q.steps.size(), slots = static_cast<size_t>(cfg_.flush_every) + 1;
  std::vector<int64_t> mine(slots * kW, 0), all(slots * kW * static_cast<size_t>(world_));
  if (first_step_ == INT64_MIN) first_step_ = q.steps.front().step;
  mine[0] = static_cast<int64_t>(n);
  mine[1] = q.error.empty() ? 0 : 1;
  mine[3] = first_step_;
  for (size_t j = 0; j < n; ++j) {
    const auto& st = q.steps[j];
    int64_t* row = &mine[(j + 1) * kW];
    row[0] = st.step;
    row[1] = st.rows;
    row[2] = st.tokens;
    row[3] = st.width;
    row[4] = st.logprob;
    row[5] = st.bad ? 1 : 0;
    if (!decoding_sent_ || st.decoding != last_decoding_) mine[2] = 1;
  }
  MDRL_CHECK_MPI(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_INT64_T, all.data(),
                               static_cast<int>(mine.size()), MPI_INT64_T, comm_));
  const auto at = [&](int r, size_t j) { return &all[(static_cast<size_t>(r) * slots + j) * kW]; };
  // Rank 0's decoding settings are recorded. They rarely change, so they travel (as
  // "<length>:<text>" records) only when they did: one collective less per write.
  std::vector<std::string> decoding(n, last_decoding_);
  if (at(0, 0)[2] != 0) {
    std::string texts;
    if (rank_ == 0)
      for (const auto& st : q.steps) texts += std::to_string(st.decoding.size()) + ":" + st.decoding;
    texts = bcast_string(comm_, texts);
    decoding.clear();
    for (size_t i = 0; i < texts.size();) {
      const size_t colon = texts.find(':', i), len = std::stoull(texts.substr(i, colon - i));
      decoding.push_back(texts.substr(colon + 1, len));
      i = colon + 1 + len;
    }
    decoding.resize(n);
    last_decoding_ = decoding.back();
    decoding_sent_ = true;
  }

  // ---- checks, alike on every rank ----------------------------------------------------------------
  bool first_agreed = true;
  for (int r = 0; r < world_; ++r) first_agreed = first_agreed && at(r, 0)[3] == first_step_;
  if (!first_agreed && first_write_) first_step_ = INT64_MIN;  // taken anew by the next write
  MDRL_CHECK(q.error.empty(), core::InternalError, q.error);
  for (int r = 0; r < world_; ++r) {
    MDRL_CHECK(at(r, 0)[1] == 0, core::InternalError,
               "trajectory store: rank " + std::to_string(r) + " was given an invalid batch (see its message)");
    MDRL_CHECK(at(r, 0)[0] == static_cast<int64_t>(n) && first_agreed, core::MismatchError,
               "trajectory store: rank " + std::to_string(r) + " appended " + std::to_string(at(r, 0)[0]) +
                   " steps since the last write, the first at step " + std::to_string(at(r, 0)[3]) +
                   ", while rank " + std::to_string(rank_) + " appended " + std::to_string(n) + ", the first at step " +
                   std::to_string(at(rank_, 0)[3]) + " (every rank must append every step)");
  }
  for (size_t j = 0; j < n; ++j) {
    Pending::Agreed st;
    st.step = q.steps[j].step;
    for (int r = 0; r < world_; ++r) {
      const int64_t* h = at(r, j + 1);
      MDRL_CHECK(h[0] == st.step, core::MismatchError,
                 "trajectory store: rank " + std::to_string(r) + " appended step " + std::to_string(h[0]) +
                     " where rank " + std::to_string(rank_) + " appended step " + std::to_string(st.step));
      st.rows.push_back(h[1]);
      st.tokens.push_back(h[2]);
      st.total_rows += h[1];
      st.total_tokens += h[2];
      if (h[1] == 0) continue;
      MDRL_CHECK(st.l < 0 || (h[3] == st.l && h[4] == st.logprob), core::MismatchError,
                 "trajectory store at step " + std::to_string(st.step) +
                     ": ranks disagree on the completion length or on whether old log-probs are present");
      st.l = h[3];
      st.logprob = h[4];
    }
    MDRL_CHECK(st.total_rows == 0 || st.l > 0, core::InternalError,
               "trajectory store: completion length must be at least 1 (step " + std::to_string(st.step) + ")");
    st.decoding = decoding[j];
    q.agreed.push_back(std::move(st));
  }
  const auto& steps = q.agreed;

  // ---- a resumed run: done at the first write, for the first step appended (samples or not; that
  // of a write that failed too, whose steps were dropped) ---------------------------------------------
  if (first_write_) {
    first_write_ = false;
    drop_steps_from(first_step_);
  }

  // ---- one write per segment the steps fall in (one, unless a steps_per_file boundary is crossed) --
  const auto window = [&](int64_t step) { return cfg_.steps_per_file > 0 ? step - step % cfg_.steps_per_file : 0; };
  for (size_t begin = 0, end = 0; begin < steps.size(); begin = end) {
    end = begin;
    while (end < steps.size() && window(steps[end].step) == window(steps[begin].step)) ++end;
    // The group's settings: those of its steps with samples, which must agree.
    int64_t l = -1, logprob = -1, first_rows = 0;
    for (size_t j = begin; j < end; ++j) {
      if (steps[j].total_rows == 0) continue;
      if (l < 0) {
        l = steps[j].l;
        logprob = steps[j].logprob;
        first_rows = steps[j].total_rows;
      }
      MDRL_CHECK(steps[j].l == l && steps[j].logprob == logprob, core::FormatError,
                 dir_ + ": step " + std::to_string(steps[j].step) + " has completions of length " +
                     std::to_string(steps[j].l) + (steps[j].logprob == 1 ? " with" : " without") +
                     " old log-probs, an earlier step of its segment " + std::to_string(l) +
                     (logprob == 1 ? " with" : " without") +
                     " (settings changed within a segment? use trajectory.steps_per_file or a new run directory)");
    }
    if (l < 0) continue;  // nothing to record
    const int64_t group_first = steps[begin].step;
    if (file_ && (group_first < file_->first_step || group_first > file_->last_step)) finish_segment();
    // One history per run: without trajectory.steps_per_file its segments share the settings.
    MDRL_CHECK(file_ || cfg_.steps_per_file > 0 || run_length_ < 0 || (l == run_length_ && logprob == run_logprob_),
               core::FormatError,
               dir_ + ": step " + std::to_string(group_first) + " has completions of length " + std::to_string(l) +
                   (logprob == 1 ? " with" : " without") + " old log-probs, earlier steps of this run " +
                   std::to_string(run_length_) + (run_logprob_ == 1 ? " with" : " without") +
                   " (settings changed within a run? use trajectory.steps_per_file or a new run directory)");
    if (!file_) {
      // Uncompressed: a chunk per write of the usual constant batch, each rank's block of rows of a
      // write then lies in one chunk and is written as one piece (trajectory_file.cpp). Compressed:
      // a chunk per step, so that chunks are whole when written however flush() cuts writes short
      // (a partly written compressed chunk is read back and rewritten by the next write). A chunk
      // of the widest columns (4 bytes a position) stays within the 1 MiB chunk cache of readers
      // (h5py's default too), or reading sample by sample would read every chunk again and again.
      const int64_t per_chunk = cfg_.compression > 0 ? first_rows : first_rows * cfg_.flush_every;
      start_segment(group_first, l, logprob == 1,
                    std::clamp<int64_t>(per_chunk, 1, std::max<int64_t>(1, (1 << 20) / (4 * l))));
    }
    const OpenFile& f = *file_;
    MDRL_CHECK(f.completion_length == l && f.has_logprob == (logprob == 1), core::FormatError,
               f.final_path + " holds completions of length " + std::to_string(f.completion_length) +
                   (f.has_logprob ? " with" : " without") + " old log-probs; step " + std::to_string(group_first) +
                   " has length " + std::to_string(l) + (logprob == 1 ? " with" : " without") +
                   " (settings changed within a segment? use trajectory.steps_per_file or a new run directory)");
    run_length_ = l;
    run_logprob_ = logprob;
    write_group(begin, end);
    if (cfg_.sync_writes) file_->file.flush();
  }
}

void TrajectoryWriter::append(const TrajectoryBatch& batch) {
  Pending& q = *pending_;
  const int64_t k = static_cast<int64_t>(meta_.reward_names.size());
  Pending::Step st;
  st.step = batch.step;
  st.decoding = batch.decoding;
  const int64_t b = batch.completion_ids.defined() ? batch.completion_ids.size(0) : 0;
  // A bad batch is reported by every rank at the next write (the others would otherwise wait for
  // this one in its collectives); until then it only takes no room.
  if (b > 0) try {
    const int64_t width = check_shape(batch.completion_ids, "completion_ids", b, 2, -1);
    check_shape(batch.step_map, "step_map", b, 2, width);
    check_shape(batch.confidence, "confidence", b, 2, width);
    check_shape(batch.rewards, "rewards", b, 2, k);
    check_shape(batch.reward, "reward", b, 1, -1);
    check_shape(batch.advantage, "advantage", b, 1, -1);
    check_shape(batch.group_id, "group_id", b, 1, -1);
    const bool has_logprob = batch.old_logprob.defined();
    if (has_logprob) check_shape(batch.old_logprob, "old_logprob", b, 2, width);
    const int64_t p = check_shape(batch.prompt_ids, "prompt_ids", b, 2, -1);
    if (batch.prompt_mask.defined()) check_shape(batch.prompt_mask, "prompt_mask", b, 2, p);
    if (batch.step_map.numel() > 0) {
      const int64_t lo = batch.step_map.min().item<int64_t>(), hi = batch.step_map.max().item<int64_t>();
      MDRL_CHECK(lo >= -1 && hi <= INT16_MAX, core::InternalError,
                 "trajectory batch at step " + std::to_string(batch.step) +
                     ": step_map values must lie in [-1, 32767] (stored as int16); got [" + std::to_string(lo) +
                     ", " + std::to_string(hi) + "]");
    }

    // ---- into the buffer (nothing below can fail for a batch that passed the checks) -------------
    // Prompts without their padding, concatenated; their lengths are a sample column.
    const at::Tensor ids = batch.prompt_ids.detach().to(at::kCPU).to(at::kInt).contiguous();
    const at::Tensor mask =
        batch.prompt_mask.defined() ? batch.prompt_mask.detach().to(at::kCPU).to(at::kBool).contiguous() : at::Tensor();
    const int32_t* id = ids.data_ptr<int32_t>();
    const bool* keep = mask.defined() ? mask.data_ptr<bool>() : nullptr;
    std::vector<int32_t> lengths(static_cast<size_t>(b));
    const size_t tokens_before = q.prompt_ids.size();
    for (int64_t i = 0; i < b; ++i) {
      int32_t n = 0;
      for (int64_t j = i * p; j < (i + 1) * p; ++j)
        if (keep == nullptr || keep[j]) {
          q.prompt_ids.push_back(id[j]);
          ++n;
        }
      lengths[static_cast<size_t>(i)] = n;
    }
    for (size_t c = 0; c < traj::kNumSampleColumns; ++c) {
      const std::string name = traj::kSampleColumns[c].name;
      at::Tensor t;
      if (name == "prompt_offset") continue;  // known only when the rows are placed in the file
      if (name == "prompt_length") t = at::from_blob(lengths.data(), {b}, at::kInt);
      else if (name == "completion_ids") t = batch.completion_ids;
      else if (name == "step_map") t = batch.step_map;
      else if (name == "confidence") t = batch.confidence;
      else if (name == "old_logprob") t = batch.old_logprob;
      else if (name == "reward") t = batch.reward;
      else if (name == "advantage") t = batch.advantage;
      else if (name == "group_id") t = batch.group_id;
      else if (name == "rank") t = at::full({b}, rank_, at::kInt);
      else if (name == "step") t = at::full({b}, batch.step, at::kLong);
      else throw core::InternalError("trajectory store: no source for samples/" + name);
      if (t.defined()) append_rows(q.cols[c], t, scalar_type(traj::kSampleColumns[c].type));
    }
    append_rows(q.cols.back(), batch.rewards, at::kDouble);
    st.rows = b;
    st.tokens = static_cast<int64_t>(q.prompt_ids.size() - tokens_before);
    st.width = width;
    st.logprob = has_logprob ? 1 : 0;
    bytes_appended_ += b * traj::sample_row_bytes(width, has_logprob, k) + st.tokens * 4;
  } catch (const core::Error& e) {
    st.bad = true;
    if (q.error.empty()) q.error = e.what();
  }
  q.steps.push_back(std::move(st));
  // The count of appends decides, so every rank writes at the same call.
  if (static_cast<int64_t>(q.steps.size()) >= cfg_.flush_every) write_pending();
}

}  // namespace mdrl::io
