// TrajectoryWriter::open_for: creates a trajectory file with its root attributes and chunked,
// extendible datasets, or reopens the file an interrupted run left and drops the steps it recorded
// at or after the step being appended (so a resumed run's store reads as if never interrupted).
#include <filesystem>

#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "io/file_util.hpp"
#include "io/trajectory_layout.hpp"

namespace mdrl::io {

namespace fs = std::filesystem;

namespace {

// Chunks: per-sample datasets hold `chunk_rows` samples per chunk (a step's worth for the usual
// constant batch, so a step fills whole chunks and compressed chunks are written once); per-step
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
}

void open_datasets(TrajectoryWriter::OpenFile& f) {
  for (const auto& c : traj::kSampleColumns) {
    const std::string name = std::string("samples/") + c.name;
    if (c.name == std::string("old_logprob") && !f.has_logprob) continue;
    f.ds[name] = f.file.open_dataset(name);
  }
  for (const char* name : {"samples/rewards", "samples/prompt_ids"}) f.ds[name] = f.file.open_dataset(name);
  for (const auto& c : traj::kStepColumns) f.ds[std::string("steps/") + c.name] = f.file.open_dataset(std::string("steps/") + c.name);
}

}  // namespace

void TrajectoryWriter::open_for(const TrajectoryBatch& batch, int64_t completion_length, int64_t chunk_rows,
                                bool has_logprob) {
  int rank = 0;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm_, &rank));
  const std::string path = path_for_step(batch.step);
  auto f = std::make_unique<OpenFile>();
  if (cfg_.steps_per_file > 0) {
    f->first_step = batch.step - batch.step % cfg_.steps_per_file;
    f->last_step = f->first_step + cfg_.steps_per_file - 1;
  } else {
    f->first_step = 0;
    f->last_step = INT64_MAX;
  }
  // Rank 0 decides whether the file exists (ranks may see a shared file system at different times).
  bool reopen = bcast_int(comm_, rank == 0 && fs::exists(path) ? 1 : 0) == 1;
  if (reopen) {
    std::string why;
    try {
      f->file = h5::File::open(path, comm_, h5::Access::ReadWrite);
      check_format(f->file, kTrajectoryFormat, kTrajectoryFormatVersion);
    } catch (const core::Error& e) {
      why = e.what();
    }
    int bad = why.empty() ? 0 : 1;
    MDRL_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm_));
    if (bad != 0) {
      // Unreadable (a crash during a metadata write): keep it aside for inspection, start afresh.
      f->file = h5::File();
      if (rank == 0) {
        std::error_code ec;
        fs::rename(path, path + ".corrupt", ec);
        core::log::warn() << "trajectory file " << path << " cannot be reopened; moved it to " << path
                          << ".corrupt and starting a new file (" << why << ")";
      }
      MDRL_CHECK_MPI(MPI_Barrier(comm_));
      reopen = false;
    }
  }
  if (reopen) {
    h5::File& file = f->file;
    f->completion_length = file.attr_int("completion_length");
    f->has_logprob = file.attr_int("has_old_logprob") != 0;
    MDRL_CHECK(file.attr_strings("reward_names") == meta_.reward_names, core::FormatError,
               path + " was written with other reward components (" + core::join(file.attr_strings("reward_names"), ",") +
                   "); move it aside or use a new run directory");
    f->decoding = file.has_attr("decoding_settings") ? file.attr_strings("decoding_settings") : std::vector<std::string>{};
    open_datasets(*f);
    // Keep the steps recorded before `batch.step`; rows after the last kept step are orphans. The
    // datasets may be longer than the counts (capacity of a file that was not closed).
    f->cap_rows = f->ds["samples/step"].rows();
    f->cap_tokens = f->ds["samples/prompt_ids"].rows();
    f->cap_steps = f->ds["steps/step"].rows();
    const int64_t recorded = file.has_attr("num_steps") ? file.attr_int("num_steps") : f->cap_steps;
    MDRL_CHECK(recorded <= f->cap_steps, core::FormatError, path + ": num_steps exceeds /steps (file damaged)");
    const auto steps = f->ds["steps/step"].read_rows_vector<int64_t>(0, recorded);
    const auto first = f->ds["steps/first_sample"].read_rows_vector<int64_t>(0, recorded);
    const auto count = f->ds["steps/num_samples"].read_rows_vector<int64_t>(0, recorded);
    size_t keep = 0;
    while (keep < steps.size() && steps[keep] < batch.step) ++keep;
    f->steps = static_cast<int64_t>(keep);
    f->rows = keep > 0 ? first[keep - 1] + count[keep - 1] : 0;
    if (f->rows > 0) {
      const auto off = f->ds["samples/prompt_offset"].read_rows_vector<int64_t>(f->rows - 1, 1);
      const auto len = f->ds["samples/prompt_length"].read_rows_vector<int32_t>(f->rows - 1, 1);
      f->tokens = off[0] + len[0];
    }
    f->fit();
    file.set_attr("num_steps", f->steps);
    file.set_attr("num_samples", f->rows);
    file.set_attr("num_prompt_tokens", f->tokens);
    // Shrinking fills the cut part of edge chunks through HDF5's chunk cache; flush it now, or the
    // cached chunk would later overwrite the rows the next (MPI-IO) write puts there.
    file.flush();
    if (keep < steps.size())
      core::log::info() << "trajectory store " << path << ": dropped " << steps.size() - keep
                        << " step(s) recorded at or after step " << batch.step << " by the interrupted run";
  } else {
    f->file = h5::File::create(path, comm_);
    f->completion_length = completion_length;
    f->has_logprob = has_logprob;
    h5::File& file = f->file;
    write_provenance(file, kTrajectoryFormat, kTrajectoryFormatVersion, meta_.config_ini);
    file.set_attr("completion_length", completion_length);
    file.set_attr("has_old_logprob", int64_t{has_logprob ? 1 : 0});
    file.set_attr("reward_names", meta_.reward_names);
    file.set_attr("mask_token_id", meta_.mask_token_id);
    file.set_attr("steps_per_file", cfg_.steps_per_file);
    file.set_attr("first_step", f->first_step);
    file.set_attr("compression", cfg_.compression);
    file.set_attr("decoding_settings", std::vector<std::string>{});
    file.set_attr("num_steps", int64_t{0});
    file.set_attr("num_samples", int64_t{0});
    file.set_attr("num_prompt_tokens", int64_t{0});
    create_datasets(*f, static_cast<int64_t>(meta_.reward_names.size()), chunk_rows,
                    static_cast<int>(cfg_.compression));
  }
  file_ = std::move(f);
}

}  // namespace mdrl::io
