// The HDF5 side of TrajectoryWriter. start_segment creates a segment file (as <name>.tmp) with its
// root attributes and chunked, extendible datasets; finish_segment closes it, fsyncs it and renames
// it to seg-<first step>.h5, after which it is never written again; drop_steps_from makes a resumed
// run's store read as if never interrupted (finished segments of steps it redoes deleted, or cut
// back through a copy renamed over them). write_group writes buffered steps the ranks agreed on
// (trajectory_writer.cpp): the ranks of each node send their rows to one writer per node, which
// places them in file order; then one collective extend per dataset, one write per dataset (per
// block of rows when rows of other nodes lie between), and the step index and the counts last.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "core/check_hdf5.hpp"
#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "io/file_util.hpp"
#include "io/trajectory_layout.hpp"

namespace mdrl::io {

namespace fs = std::filesystem;

namespace {

// One process (the serial driver): reopens the uncompressed datasets without a chunk cache. HDF5
// keeps chunks of up to 1 MiB in a per-dataset cache and copies every write into it first; our
// writes are large and never read back, so the cache only adds a copy of all data. Compressed
// chunks keep it: a partly written one is completed there instead of being decompressed and
// compressed again. (The MPI-IO driver has no chunk cache: hdf5.cpp.)
void drop_chunk_caches(TrajectoryWriter::OpenFile& f) {
  if (f.file.parallel()) return;
  auto info = std::make_shared<h5::FileInfo>();
  info->path = f.file.path();
  h5::Id dapl(MDRL_CHECK_H5(H5Pcreate(H5P_DATASET_ACCESS), info->path), H5Pclose);
  MDRL_CHECK_H5(H5Pset_chunk_cache(dapl.get(), 0, 0, 1.0), info->path);
  for (auto& [name, d] : f.ds) {
    h5::Id dcpl(MDRL_CHECK_H5(H5Dget_create_plist(d.id()), d.where()), H5Pclose);
    if (MDRL_CHECK_H5(H5Pget_nfilters(dcpl.get()), d.where()) > 0) continue;
    h5::Id id(MDRL_CHECK_H5(H5Dopen2(f.file.id(), name.c_str(), dapl.get()), d.where()), H5Dclose);
    d = h5::Dataset(std::move(id), info, d.where());
  }
}

// Chunks: per-sample datasets hold `chunk_rows` samples per chunk (a write's worth for the usual
// constant batch, so a write fills whole chunks and compressed chunks are written once); per-step
// and token datasets use fixed sizes that keep the chunk index small.
void create_datasets(TrajectoryWriter::OpenFile& f, int64_t k, int64_t chunk_rows, int deflate) {
  const int64_t l = f.completion_length;
  auto make = [&](const std::string& name, h5::Type type, std::vector<int64_t> shape, std::vector<int64_t> chunk) {
    h5::DatasetLayout layout{true, std::move(chunk), deflate};
    f.ds[name] = f.file.create_dataset(name, type, shape, layout);
  };
  for (const auto& c : traj::kSampleColumns) {
    if (c.name == std::string("old_logprob") && !f.has_logprob) continue;
    if (c.per_position) make(std::string("samples/") + c.name, c.type, {0, l}, {chunk_rows, l});
    else make(std::string("samples/") + c.name, c.type, {0}, {std::max<int64_t>(chunk_rows, 1024)});
  }
  make("samples/rewards", h5::Type::F64, {0, k}, {std::max<int64_t>(chunk_rows, 256), k});
  make("samples/prompt_ids", h5::Type::I32, {0}, {1 << 16});
  for (const auto& c : traj::kStepColumns) make(std::string("steps/") + c.name, c.type, {0}, {1024});
  drop_chunk_caches(f);
}

// Rows [first, first + count) of a dataset.
struct Block {
  int64_t first = 0, count = 0;
};

// Appends a block, merged with the previous one when they touch (one rank alone: every buffered
// step's rows follow the previous step's, and the write is one contiguous piece).
void add_block(std::vector<Block>& blocks, int64_t first, int64_t count) {
  if (count == 0) return;
  if (!blocks.empty() && blocks.back().first + blocks.back().count == first) blocks.back().count += count;
  else blocks.push_back({first, count});
}

// Writes `data` (the blocks' rows, concatenated, as `type`) to the blocks of `d` with one H5Dwrite
// (h5::Dataset::write_rows writes one block). A rank without rows still joins collective transfers.
void write_union(const h5::Dataset& d, const std::vector<Block>& blocks, h5::Type type, const void* data,
                 h5::Transfer xfer) {
  const std::string& w = d.where();
  const auto dims = d.shape();
  h5::Id file_space(MDRL_CHECK_H5(H5Dget_space(d.id()), w), H5Sclose);
  std::vector<hsize_t> start(dims.size(), 0), block(dims.begin(), dims.end()), one(dims.size(), 1);
  hsize_t rows = 0;
  for (const Block& b : blocks) {
    MDRL_CHECK(b.first >= 0 && b.count > 0 && b.first + b.count <= dims[0], core::InternalError,
               w + ": rows [" + std::to_string(b.first) + ", " + std::to_string(b.first + b.count) +
                   ") are outside its " + std::to_string(dims[0]) + " rows");
    start[0] = static_cast<hsize_t>(b.first);
    block[0] = static_cast<hsize_t>(b.count);
    MDRL_CHECK_H5(H5Sselect_hyperslab(file_space.get(), rows == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, start.data(),
                                      nullptr, one.data(), block.data()),
                  w);
    rows += block[0];
  }
  block[0] = std::max<hsize_t>(rows, 1);
  h5::Id mem_space(MDRL_CHECK_H5(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr), w), H5Sclose);
  if (rows == 0) {
    MDRL_CHECK_H5(H5Sselect_none(file_space.get()), w);
    MDRL_CHECK_H5(H5Sselect_none(mem_space.get()), w);
  }
  const h5::FileInfo& info = d.file();
  const hid_t plist =
      !info.parallel ? H5P_DEFAULT
                     : (xfer == h5::Transfer::Collective ? info.collective_xfer : info.independent_xfer).get();
  const uint64_t dummy = 0;
  MDRL_CHECK_H5(H5Dwrite(d.id(), h5::memory_type(type), mem_space.get(), file_space.get(), plist,
                         rows == 0 || data == nullptr ? &dummy : data),
                "writing " + w);
}

// Writes this rank's rows of the buffered steps: `data` holds the blocks' rows, concatenated.
void write_blocks(const h5::Dataset& d, const std::vector<Block>& blocks, h5::Type type, const void* data,
                  h5::Transfer xfer) {
  // HDF5 1.10 cuts a selection of several blocks of a chunked 2-D dataset into one piece per row,
  // and without data sieving (which the MPI-IO driver lacks) each piece is a pwrite: ten times
  // slower than disk speed. One block per H5Dwrite stays one piece per chunk. Collective transfers
  // hand the whole selection to MPI-IO, which aggregates it, and need the same calls on every rank.
  if (d.file().parallel && xfer == h5::Transfer::Independent && d.row_elements() > 1 && blocks.size() > 1) {
    const auto* at = static_cast<const char*>(data);
    const size_t row_bytes = h5::type_size(type) * static_cast<size_t>(d.row_elements());
    for (const Block& b : blocks) {
      d.write_rows(b.first, b.count, type, at, xfer);
      at += static_cast<size_t>(b.count) * row_bytes;
    }
    return;
  }
  write_union(d, blocks, type, data, xfer);
}

// Gathers the rows of a node's ranks for one write into the node writer's buffers `out`, in file
// order: the writer copies its own, every other rank of the node sends each column as one message
// that lands in place (an hindexed datatype over the writer's buffer, so one copy). Per column c
// (the last: prompt tokens): data[c] holds this rank's `my_rows` (`my_tokens`) rows of row_size[c]
// bytes; on the writer, member_rows[m] (member_tokens[m]) are the blocks of out[c] that node member
// m's rows fill. Collective over `node`.
void gather_node_rows(MPI_Comm node, bool writer, const std::vector<const char*>& data,
                      const std::vector<bool>& present, const std::vector<size_t>& row_size, int64_t my_rows,
                      int64_t my_tokens,
                      const std::vector<std::vector<Block>>& member_rows,
                      const std::vector<std::vector<Block>>& member_tokens, const std::vector<char*>& out) {
  int me = 0;
  MDRL_CHECK_MPI(MPI_Comm_rank(node, &me));
  const size_t n = data.size();
  std::vector<MPI_Request> requests;
  std::vector<MPI_Datatype> types;
  const auto bytes = [](int64_t rows, size_t size) {
    const int64_t b = rows * static_cast<int64_t>(size);
    MDRL_CHECK(b <= INT32_MAX, core::InternalError, "trajectory store: a node's write exceeds 2 GiB per column");
    return static_cast<int>(b);
  };
  for (size_t c = 0; c < n; ++c) {
    if (!present[c]) continue;
    const bool token = c + 1 == n;
    const int tag = static_cast<int>(c);
    if (!writer) {
      const int64_t count = token ? my_tokens : my_rows;
      if (count == 0) continue;
      requests.emplace_back();
      MDRL_CHECK_MPI(MPI_Isend(data[c], bytes(count, row_size[c]), MPI_BYTE, 0, tag, node, &requests.back()));
      continue;
    }
    const auto& of = token ? member_tokens : member_rows;
    for (size_t m = 0; m < of.size(); ++m) {
      if (of[m].empty()) continue;
      if (static_cast<int>(m) == me) {
        const char* from = data[c];
        for (const Block& b : of[m]) {
          const size_t size = static_cast<size_t>(b.count) * row_size[c];
          std::memcpy(out[c] + static_cast<size_t>(b.first) * row_size[c], from, size);
          from += size;
        }
        continue;
      }
      std::vector<int> lengths;
      std::vector<MPI_Aint> at;
      for (const Block& b : of[m]) {
        lengths.push_back(bytes(b.count, row_size[c]));
        at.push_back(static_cast<MPI_Aint>(b.first) * static_cast<MPI_Aint>(row_size[c]));
      }
      MPI_Datatype type = MPI_DATATYPE_NULL;
      MDRL_CHECK_MPI(
          MPI_Type_create_hindexed(static_cast<int>(lengths.size()), lengths.data(), at.data(), MPI_BYTE, &type));
      types.push_back(type);
      MDRL_CHECK_MPI(MPI_Type_commit(&types.back()));
      requests.emplace_back();
      MDRL_CHECK_MPI(MPI_Irecv(out[c], 1, type, static_cast<int>(m), tag, node, &requests.back()));
    }
  }
  MDRL_CHECK_MPI(MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE));
  for (auto& t : types) MPI_Type_free(&t);
}

void open_datasets(TrajectoryWriter::OpenFile& f) {
  for (const auto& c : traj::kSampleColumns) {
    const std::string name = std::string("samples/") + c.name;
    if (c.name == std::string("old_logprob") && !f.has_logprob) continue;
    f.ds[name] = f.file.open_dataset(name);
  }
  for (const char* name : {"samples/rewards", "samples/prompt_ids"}) f.ds[name] = f.file.open_dataset(name);
  for (const auto& c : traj::kStepColumns) f.ds[std::string("steps/") + c.name] = f.file.open_dataset(std::string("steps/") + c.name);
  drop_chunk_caches(f);
}

}  // namespace

namespace {

// Rank 0's work of a collective step, its error (if any) thrown on every rank alike.
template <class F>
void on_rank0_alike(MPI_Comm comm, int rank, F&& f) {
  std::string error;
  if (rank == 0) try {
      f();
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    }
  error = bcast_string(comm, error);
  MDRL_CHECK(error.empty(), core::IoError, error);
}

// Cuts the segment at `path` back to its steps before `s` (one process): a copy is cut and renamed
// over it, so a kill at any moment leaves the old segment or the cut one, never a damaged one.
void cut_segment(const std::string& path, int64_t s) {
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
  MDRL_CHECK(!ec, core::IoError, "cannot copy " + path + " to " + tmp + ": " + ec.message());
  {
    TrajectoryWriter::OpenFile f;
    f.file = h5::File::open(tmp, MPI_COMM_SELF, h5::Access::ReadWrite);
    f.has_logprob = f.file.attr_int("has_old_logprob") != 0;
    open_datasets(f);
    f.cap_rows = f.ds["samples/step"].rows();
    f.cap_tokens = f.ds["samples/prompt_ids"].rows();
    f.cap_steps = f.ds["steps/step"].rows();
    const int64_t recorded = f.file.attr_int("num_steps");
    MDRL_CHECK(recorded <= f.cap_steps, core::FormatError, path + ": num_steps exceeds /steps (file damaged)");
    const auto steps = f.ds["steps/step"].read_rows_vector<int64_t>(0, recorded);
    const auto first = f.ds["steps/first_sample"].read_rows_vector<int64_t>(0, recorded);
    const auto count = f.ds["steps/num_samples"].read_rows_vector<int64_t>(0, recorded);
    size_t keep = 0;
    while (keep < steps.size() && steps[keep] < s) ++keep;
    f.steps = static_cast<int64_t>(keep);
    f.rows = keep > 0 ? first[keep - 1] + count[keep - 1] : 0;
    if (f.rows > 0) {
      const auto off = f.ds["samples/prompt_offset"].read_rows_vector<int64_t>(f.rows - 1, 1);
      const auto len = f.ds["samples/prompt_length"].read_rows_vector<int32_t>(f.rows - 1, 1);
      f.tokens = off[0] + len[0];
    }
    f.file.set_attr("num_steps", f.steps);
    f.file.set_attr("num_samples", f.rows);
    f.file.set_attr("num_prompt_tokens", f.tokens);
    if (f.file.has_attr("last_step") && keep > 0) f.file.set_attr("last_step", steps[keep - 1]);
    f.close();  // fits the extents to the kept rows
  }
  fsync_path(tmp);
  fs::rename(tmp, path, ec);
  MDRL_CHECK(!ec, core::IoError, "cannot rename " + tmp + " to " + path + ": " + ec.message());
}

}  // namespace

void TrajectoryWriter::start_segment(int64_t step, int64_t completion_length, bool has_logprob, int64_t chunk_rows) {
  auto f = std::make_unique<OpenFile>();
  f->final_path = (fs::path(dir_) / segment_name(step)).string();
  if (cfg_.steps_per_file > 0) {
    f->first_step = step - step % cfg_.steps_per_file;
    f->last_step = f->first_step + cfg_.steps_per_file - 1;
  } else {
    f->first_step = step;
    f->last_step = INT64_MAX;
  }
  f->last_recorded = step;
  f->file = h5::File::create(f->final_path + ".tmp", comm_);
  f->completion_length = completion_length;
  f->has_logprob = has_logprob;
  h5::File& file = f->file;
  write_provenance(file, kTrajectoryFormat, kTrajectoryFormatVersion, meta_.config_ini);
  file.set_attr("completion_length", f->completion_length);
  file.set_attr("has_old_logprob", int64_t{f->has_logprob ? 1 : 0});
  file.set_attr("reward_names", meta_.reward_names);
  file.set_attr("mask_token_id", meta_.mask_token_id);
  file.set_attr("steps_per_file", cfg_.steps_per_file);
  file.set_attr("first_step", step);
  file.set_attr("last_step", step);
  file.set_attr("compression", cfg_.compression);
  file.set_attr("decoding_settings", std::vector<std::string>{});
  file.set_attr("num_steps", int64_t{0});
  file.set_attr("num_samples", int64_t{0});
  file.set_attr("num_prompt_tokens", int64_t{0});
  create_datasets(*f, static_cast<int64_t>(meta_.reward_names.size()), chunk_rows, static_cast<int>(cfg_.compression));
  file_ = std::move(f);
}

void TrajectoryWriter::finish_segment() {
  if (!file_) return;
  auto f = std::move(file_);
  const std::string tmp = f->file.path(), final_path = f->final_path;
  f->file.set_attr("last_step", f->last_recorded);
  f->close();  // every rank has closed the file when this returns
  on_rank0_alike(comm_, rank_, [&] {
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, final_path, ec);
    MDRL_CHECK(!ec, core::IoError, "cannot rename " + tmp + " to " + final_path + ": " + ec.message());
    fsync_path(dir_);
  });
}

void TrajectoryWriter::drop_steps_from(int64_t s) {
  on_rank0_alike(comm_, rank_, [&] {
    int64_t removed = 0, cut = 0;
    for (const auto& path : TrajectoryReader::run_files(dir_)) {
      int64_t first = 0, last = 0;
      bool empty = false;
      try {
        const TrajectoryReader r(path);
        empty = r.steps().empty();
        if (!empty) {
          first = r.steps().front().step;
          last = r.steps().back().step;
        }
      } catch (const core::Error& e) {
        // Only a version-1 file (written in place) can be damaged by a kill; keep it for inspection.
        std::error_code ec;
        fs::rename(path, path + ".corrupt", ec);
        MDRL_CHECK(!ec, core::IoError, "cannot move the unreadable " + path + " aside: " + ec.message());
        core::log::warn() << "trajectory file " << path << " cannot be read; moved it to " << path << ".corrupt ("
                          << e.what() << ")";
        continue;
      }
      if (empty || first >= s) {
        std::error_code ec;
        fs::remove(path, ec);
        MDRL_CHECK(!ec, core::IoError, "cannot delete " + path + ": " + ec.message());
        ++removed;
      } else if (last >= s) {
        cut_segment(path, s);
        ++cut;
      }
    }
    if (removed + cut > 0) {
      fsync_path(dir_);
      core::log::info() << "trajectory store " << dir_ << ": resuming at step " << s << ", deleted " << removed
                        << " and cut back " << cut << " segment(s) of the interrupted run that held steps from there on";
    }
  });
}

void TrajectoryWriter::write_group(size_t begin, size_t end) {
  Pending& q = *pending_;
  OpenFile& f = *file_;
  const auto& steps = q.agreed;
  const int64_t k = static_cast<int64_t>(meta_.reward_names.size()), l = f.completion_length;
  // One rank per node writes the node's rows (see gather_node_rows): on one node one writer, so
  // the ranks do not queue for the file's lock in the kernel, and each write is a few large
  // pieces instead of one per rank and step.
  const bool gather = node_members_.size() > 1, writer = node_members_.front() == rank_;
  const size_t members = node_members_.size();

  // ---- where the rows go: per step, after the earlier steps and the lower ranks' rows ------------
  std::vector<Block> rows, tokens;  // the rows (prompt tokens) the writer writes, in file order
  // When gathering: per node member, the blocks of the writer's buffer that its rows fill.
  std::vector<std::vector<Block>> member_rows(gather && writer ? members : 0), member_tokens(member_rows.size());
  std::vector<int64_t> prompt_offset, step_rows, step_first, step_count;
  std::vector<int32_t> decoding_index;
  const size_t known = f.decoding.size();
  const int32_t* length = reinterpret_cast<const int32_t*>(q.cols[1].data());  // samples/prompt_length
  static_assert(std::string_view(traj::kSampleColumns[1].name) == "prompt_length");
  const int64_t rows_first = q.rows_done, tokens_first = q.tokens_done, logprob_first = q.logprob_rows_done;
  int64_t row = f.rows, token = f.tokens, at_row = 0, at_token = 0;  // at_*: in the writer's buffer
  for (size_t j = begin; j < end; ++j) {
    const Pending::Agreed& st = steps[j];
    if (st.total_rows == 0) continue;  // not recorded
    int64_t r0 = row, t0 = token;
    for (int r = 0; r < world_; ++r) {
      const int64_t n = st.rows[static_cast<size_t>(r)], nt = st.tokens[static_cast<size_t>(r)];
      if (r == rank_) {
        for (int64_t i = 0, t = t0; i < n; ++i) {
          prompt_offset.push_back(t);
          t += length[q.rows_done++];
        }
        q.tokens_done += nt;
      }
      const int m = node_index_[static_cast<size_t>(r)];
      if (writer && m >= 0) {
        add_block(rows, r0, n);
        add_block(tokens, t0, nt);
        if (gather) {
          add_block(member_rows[static_cast<size_t>(m)], at_row, n);
          add_block(member_tokens[static_cast<size_t>(m)], at_token, nt);
          at_row += n;
          at_token += nt;
        }
      }
      r0 += n;
      t0 += nt;
    }
    auto it = std::find(f.decoding.begin(), f.decoding.end(), st.decoding);
    if (it == f.decoding.end()) it = f.decoding.insert(f.decoding.end(), st.decoding);
    decoding_index.push_back(static_cast<int32_t>(it - f.decoding.begin()));
    step_rows.push_back(st.step);
    step_first.push_back(row);
    step_count.push_back(st.total_rows);
    row += st.total_rows;
    token += st.total_tokens;
  }
  if (f.has_logprob) q.logprob_rows_done += q.rows_done - rows_first;
  if (f.decoding.size() != known) f.file.set_attr("decoding_settings", f.decoding);
  const int64_t n_steps = static_cast<int64_t>(step_rows.size());

  // ---- the data each column is written from ---------------------------------------------------------
  // This rank's rows of the group, per column (samples/rewards last), then its prompt tokens.
  constexpr size_t kCols = traj::kNumSampleColumns + 1;
  static_assert(std::string_view(traj::kSampleColumns[0].name) == "prompt_offset");
  std::vector<const char*> data(kCols + 1, nullptr);
  std::vector<size_t> row_size(kCols + 1, 0);
  std::vector<bool> present(kCols + 1, true);  // old_logprob only in files with
  for (size_t c = 0; c < traj::kNumSampleColumns; ++c) {
    const auto& col = traj::kSampleColumns[c];
    row_size[c] = h5::type_size(col.type) * static_cast<size_t>(col.per_position ? l : 1);
    present[c] = f.has_logprob || col.name != std::string("old_logprob");
    // Batches without old log-probs add no rows to that column: its rows start elsewhere.
    const int64_t first = col.name == std::string("old_logprob") ? logprob_first : rows_first;
    data[c] = c == 0 ? reinterpret_cast<const char*>(prompt_offset.data())
                     : q.cols[c].data() + static_cast<size_t>(first) * row_size[c];
  }
  row_size[kCols - 1] = sizeof(double) * static_cast<size_t>(k);
  data[kCols - 1] = q.cols.back().data() + static_cast<size_t>(rows_first) * row_size[kCols - 1];
  row_size[kCols] = sizeof(int32_t);
  data[kCols] = reinterpret_cast<const char*>(q.prompt_ids.data() + tokens_first);
  if (gather) {
    const int64_t my_rows = q.rows_done - rows_first, my_tokens = q.tokens_done - tokens_first;
    std::vector<char*> out(kCols + 1, nullptr);
    if (writer) {
      for (size_t c = 0; c < kCols; ++c) {
        if (present[c]) q.node_cols[c].resize(static_cast<size_t>(at_row) * row_size[c]);
        out[c] = q.node_cols[c].data();
      }
      q.node_tokens.resize(static_cast<size_t>(at_token));
      out[kCols] = reinterpret_cast<char*>(q.node_tokens.data());
    }
    gather_node_rows(node_, writer, data, present, row_size, my_rows, my_tokens, member_rows, member_tokens, out);
    for (size_t c = 0; c <= kCols; ++c) data[c] = out[c];
  }

  // ---- extend collectively, then write ------------------------------------------------------------
  // Compressed chunks can only be written collectively (HDF5's rule): every rank joins, those
  // without rows with empty selections. Uncompressed, the writers write alone.
  const bool collective = cfg_.compression > 0 || cfg_.collective_io;
  const auto xfer = collective ? h5::Transfer::Collective : h5::Transfer::Independent;
  f.reserve(row, token, f.steps + n_steps);
  if (writer || collective) {
    for (size_t c = 0; c < kCols; ++c) {
      if (!present[c]) continue;
      const bool rewards = c == traj::kNumSampleColumns;
      const std::string name = rewards ? std::string("rewards") : std::string(traj::kSampleColumns[c].name);
      write_blocks(f.ds.at("samples/" + name), rows, rewards ? h5::Type::F64 : traj::kSampleColumns[c].type, data[c],
                   xfer);
    }
    write_blocks(f.ds.at("samples/prompt_ids"), tokens, h5::Type::I32, data[kCols], xfer);
  }
  // The steps' index rows and the counts last: readers and resume trust only what they cover.
  if (rank_ == 0 || collective) {
    const std::vector<Block> index = rank_ == 0 ? std::vector<Block>{{f.steps, n_steps}} : std::vector<Block>{};
    write_blocks(f.ds.at("steps/step"), index, h5::Type::I64, step_rows.data(), xfer);
    write_blocks(f.ds.at("steps/first_sample"), index, h5::Type::I64, step_first.data(), xfer);
    write_blocks(f.ds.at("steps/num_samples"), index, h5::Type::I64, step_count.data(), xfer);
    write_blocks(f.ds.at("steps/decoding"), index, h5::Type::I32, decoding_index.data(), xfer);
  }
  f.rows = row;
  f.tokens = token;
  f.steps += n_steps;
  f.file.set_attr("num_steps", f.steps);
  f.file.set_attr("num_samples", f.rows);
  f.file.set_attr("num_prompt_tokens", f.tokens);
  if (n_steps > 0) f.last_recorded = step_rows.back();
}

}  // namespace mdrl::io
