// CheckpointManager: the checkpoints folder of a run. Atomic saves (temporary name, every rank
// closes, rank 0 fsyncs and renames, then updates `latest`), keep_last retention, finding the
// newest complete checkpoint on resume, and (checkpoint.fallback) setting a damaged newest one
// aside as step_<N>.h5.corrupt to resume from the previous one. Decisions on the file system are
// rank 0's and broadcast, so ranks never disagree because a shared file system showed them
// different listings.
#include <algorithm>
#include <filesystem>
#include <regex>

#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/checkpoint.hpp"
#include "io/file_util.hpp"
#include "io/hdf5.hpp"

namespace mdrl::io {

namespace fs = std::filesystem;

namespace {

int comm_rank(MPI_Comm comm) {
  int r = 0;
  MDRL_CHECK_MPI(MPI_Comm_rank(comm, &r));
  return r;
}

// step_<N>.h5 files of `dir`, newest first.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& dir) {
  static const std::regex pattern(R"(step_(\d+)\.h5)");
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, pattern) && e.is_regular_file(ec)) found.emplace_back(std::stoll(m[1]), e.path().string());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return found;
}

// Runs `fn` on rank 0 only and rethrows its error on every rank (as core::IoError).
template <class Fn>
void on_rank0(MPI_Comm comm, Fn&& fn) {
  std::string error;
  if (comm_rank(comm) == 0) {
    try {
      fn();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  error = bcast_string(comm, error);
  MDRL_CHECK(error.empty(), core::IoError, error);
}

}  // namespace

CheckpointManager::CheckpointManager(MPI_Comm comm, std::string run_dir, CheckpointConfig cfg)
    : comm_(comm), dir_((fs::path(run_dir) / "checkpoints").string()), cfg_(cfg) {
  cfg_.validate();
}

std::string CheckpointManager::path_for_step(int64_t step) const {
  return (fs::path(dir_) / ("step_" + std::to_string(step) + ".h5")).string();
}

std::string CheckpointManager::save(const CheckpointState& state) {
  const std::string final_path = path_for_step(state.step);
  const std::string tmp = final_path + ".tmp";
  on_rank0(comm_, [&] {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    MDRL_CHECK(!ec, core::IoError, "cannot create the checkpoint directory " + dir_ + ": " + ec.message());
    // Temporaries are only ever left by a crash: nobody else writes here while the run is alive.
    for (const auto& e : fs::directory_iterator(dir_, ec))
      if (e.path().extension() == ".tmp") fs::remove(e.path(), ec);
  });
  write_checkpoint_file(tmp, comm_, state);  // every rank has closed the file when this returns
  if (crash_before_rename_) return tmp;
  on_rank0(comm_, [&] {
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, final_path, ec);
    MDRL_CHECK(!ec, core::IoError, "cannot rename " + tmp + " to " + final_path + ": " + ec.message());
    fsync_path(dir_);
    write_text_atomically((fs::path(dir_) / "latest").string(), fs::path(final_path).filename().string() + "\n");
    // Retention: a checkpoint off the checkpoint.every cadence (written on a signal, CHECKPOINT_NOW
    // or walltime) only bridges to the next one and is deleted once a newer one exists, without
    // taking a keep_last slot; so the cadence checkpoints kept are the same whether or not the run
    // was interrupted.
    const auto all = list_checkpoints(dir_);
    auto off_cadence = [&](int64_t step) { return cfg_.every > 0 && step % cfg_.every != 0; };
    int64_t kept = 0;
    for (const auto& [step, path] : all) {
      if (path == final_path) {  // never the one just written
        if (!off_cadence(step)) ++kept;
        continue;
      }
      if (!off_cadence(step) && (cfg_.keep_last == 0 || ++kept <= cfg_.keep_last)) continue;
      fs::remove(path, ec);
      if (ec) core::log::warn() << "cannot delete old checkpoint " << path << ": " << ec.message();
    }
  });
  core::log::info() << "checkpoint written: " << final_path;
  return final_path;
}

namespace {

// Why rank 0 cannot open `path` as a checkpoint (empty: it can).
std::string open_problem(const std::string& path) {
  try {
    h5::File f = h5::File::open(path, MPI_COMM_SELF);
    check_format(f, kCheckpointFormat, kCheckpointFormatVersion);
  } catch (const core::Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

std::optional<std::string> CheckpointManager::find_latest() const {
  std::string found;
  on_rank0(comm_, [&] {
    const auto all = list_checkpoints(dir_);
    if (all.empty()) return;
    // Renamed only when complete, so the newest must be readable; if it is not, the disk or a
    // person damaged it, and silently training from an older one would hide that (unless the
    // user asked for it with checkpoint.fallback: then resume() sets it aside).
    const std::string& path = all.front().second;
    if (!cfg_.fallback) {
      const std::string problem = open_problem(path);
      if (!problem.empty())
        throw core::IoError(problem + "\nThe newest checkpoint " + path + " is unreadable; move it away " +
                            (all.size() > 1 ? "to resume from " + all[1].second : std::string("to start afresh")) +
                            ", or set checkpoint.fallback = true to have the run do that");
    }
    found = path;
  });
  found = bcast_string(comm_, found);
  if (found.empty()) return std::nullopt;
  return found;
}

CheckpointState CheckpointManager::load(const std::string& path, const ResumeRequirements& req) const {
  CheckpointState s = read_checkpoint_file(path, comm_, req);
  core::log::info() << "resuming from checkpoint " << path << " (step " << s.step << ")";
  return s;
}

std::optional<CheckpointState> CheckpointManager::resume(const ResumeRequirements& req) {
  if (!cfg_.fallback) {
    const auto path = find_latest();
    if (!path) return std::nullopt;
    return load(*path, req);
  }
  std::vector<std::string> set_aside;
  while (true) {
    // Rank 0 picks the newest and says whether it opens; everyone gets both answers.
    std::string path, problem;
    on_rank0(comm_, [&] {
      const auto all = list_checkpoints(dir_);
      if (all.empty()) return;
      path = all.front().second;
      problem = open_problem(path);
    });
    path = bcast_string(comm_, path);
    problem = bcast_string(comm_, problem);
    if (path.empty()) break;
    if (problem.empty()) {
      try {
        CheckpointState s = load(path, req);
        if (!set_aside.empty())
          on_rank0(comm_, [&] {
            write_text_atomically((fs::path(dir_) / "latest").string(), fs::path(path).filename().string() + "\n");
          });
        return s;
      } catch (const CheckpointDamagedError& e) {  // thrown on every rank alike
        problem = e.reason();
      }
    }
    // Damaged: keep it for inspection under a name that neither resume nor retention counts.
    const std::string aside = path + ".corrupt";
    on_rank0(comm_, [&] {  // one warning, not one per rank: every rank saw the same
      core::log::warn() << "checkpoint.fallback: the newest checkpoint " << path << " is damaged (" << problem
                        << "); moving it to " << aside << " and trying the previous one";
      std::error_code ec;
      fs::rename(path, aside, ec);
      MDRL_CHECK(!ec, core::IoError,
                 "cannot rename the damaged checkpoint " + path + " to " + aside + ": " + ec.message());
      fsync_path(dir_);
    });
    set_aside.push_back(aside);
  }
  if (set_aside.empty()) return std::nullopt;
  std::string names;
  for (const auto& a : set_aside) names += (names.empty() ? "" : ", ") + a;
  throw core::FormatError("no intact checkpoint is left in " + dir_ + ": every one was damaged and moved aside (" +
                          names + "). Run again to start afresh in this run.dir, or use a new run.dir");
}

}  // namespace mdrl::io
