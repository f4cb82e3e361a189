// CheckpointManager: the checkpoints folder of a run. Atomic saves (temporary name, every rank
// closes, rank 0 fsyncs and renames, then updates `latest`), keep_last retention, finding the
// newest complete checkpoint on resume, and (checkpoint.fallback) setting a damaged newest one
// aside as step_<N>.h5.corrupt to resume from the previous one. Decisions on the file system are
// rank 0's and broadcast, so ranks never disagree because a shared file system showed them
// different listings.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <regex>
#include <sstream>

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

std::string bytes_text(double b) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  std::ostringstream o;
  o << std::fixed << std::setprecision(u == 0 ? 0 : 1) << b << " " << units[u];
  return o.str();
}

// What stops writes under `dir` that the file system itself says (statvfs), to follow the
// directory's name in a message: "is on a read-only file system", "is on a full file system (...)"
// (less free than `need` bytes, or than a few blocks when need is 0); "" when neither.
std::string file_system_problem(const std::string& dir, uint64_t need) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return {};
  if ((st.f_flag & ST_RDONLY) != 0) return "is on a read-only file system";
  const double free_bytes = static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize);
  const double want = need > 0 ? static_cast<double>(need) : 4.0 * static_cast<double>(st.f_frsize);
  if (free_bytes < want)
    return "is on a full file system (" + bytes_text(free_bytes) + " free" +
           (need > 0 ? ", a checkpoint needs about " + bytes_text(static_cast<double>(need)) : std::string()) + ")";
  return {};
}

// What the user should do about `problem` (from file_system_problem) for the run in `run_dir`.
std::string what_to_do(const std::string& problem, const std::string& run_dir, const std::string& dir) {
  if (problem.find("read-only") != std::string::npos || problem.find("Read-only") != std::string::npos)
    return "remount it read-write, or copy the run directory to a writable file system (cp -a " + run_dir +
           " NEW) and run again with run.dir=NEW";
  return "free space on that file system (df -h " + dir + "), or copy the run directory to one with room (cp -a " +
         run_dir + " NEW) and run again with run.dir=NEW";
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

int CheckpointManager::world_size() const {
  int size = 0;
  MDRL_CHECK_MPI(MPI_Comm_size(comm_, &size));
  return size;
}

void CheckpointManager::ensure_writable() const {
  on_rank0(comm_, [&] {
    const fs::path run_dir = fs::path(dir_).parent_path();
    std::error_code ec;
    fs::create_directories(dir_, ec);
    std::string problem;
    if (ec) {
      problem = "cannot create " + dir_ + " (" + ec.message() + ")";
    } else {
      // A probe as a checkpoint would be written: create, write, flush to disk, remove.
      const std::string probe = (fs::path(dir_) / (".write_test." + std::to_string(::getpid()))).string();
      const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      int err = fd < 0 ? errno : 0;
      if (fd >= 0) {
        const char block[512] = {};
        if (::write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block) || ::fsync(fd) != 0) err = errno;
        ::close(fd);
        ::unlink(probe.c_str());
      }
      if (err != 0) problem = "writing a file there fails: " + std::string(std::strerror(err));
    }
    if (problem.empty()) return;
    std::string fs_problem = file_system_problem(fs::exists(dir_, ec) ? dir_ : run_dir.string(), 0);
    if (problem.find("Read-only") != std::string::npos) fs_problem.clear();  // says it already
    const auto all = list_checkpoints(dir_);
    throw core::IoError("run.dir " + run_dir.string() + " is not writable: " + problem +
                        (fs_problem.empty() ? std::string() : "; it " + fs_problem) +
                        ". Training writes its checkpoints, metrics.jsonl and final/ there. To go on: " +
                        what_to_do(fs_problem.empty() ? problem : fs_problem, run_dir.string(), dir_) +
                        "; the same command then " +
                        (all.empty() ? std::string("starts the run")
                                     : "resumes from " + all.front().second + " (intact, not touched)") + ".");
  });
}

std::string CheckpointManager::path_for_step(int64_t step) const {
  return (fs::path(dir_) / ("step_" + std::to_string(step) + ".h5")).string();
}

std::string CheckpointManager::save(const CheckpointState& state) {
  const std::string final_path = path_for_step(state.step);
  const std::string tmp = final_path + ".tmp";
  // About the file's size: the tensors, the stored configuration, and HDF5's structure.
  uint64_t need = state.config_ini.size() + (uint64_t{64} << 10);
  for (const auto* list : {&state.params, &state.optimizer_tensors})
    for (const auto& [name, t] : *list) need += static_cast<uint64_t>(t.numel() * t.element_size()) + 4096;
  // Rank 0's message for a checkpoint that cannot be written because of `problem`.
  auto cannot_write = [&](const std::string& problem, const std::string& detail) {
    const auto all = list_checkpoints(dir_);
    const fs::path run_dir = fs::path(dir_).parent_path();
    return "cannot write checkpoint " + final_path + " (step " + std::to_string(state.step) + "): " + dir_ + " " +
           problem + ". Nothing of it was kept" +
           (all.empty() ? std::string("; there is no earlier checkpoint")
                        : "; the previous checkpoint " + all.front().second + " is intact") +
           ". To go on: " + what_to_do(problem, run_dir.string(), dir_) + "; the same command then " +
           (all.empty() ? std::string("starts the run again")
                        : "resumes from step " + std::to_string(all.front().first)) +
           "." + (detail.empty() ? std::string() : "\n  (" + detail + ")");
  };
  on_rank0(comm_, [&] {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    MDRL_CHECK(!ec, core::IoError, "cannot create the checkpoint directory " + dir_ + ": " + ec.message());
    // Temporaries are only ever left by a crash: nobody else writes here while the run is alive.
    for (const auto& e : fs::directory_iterator(dir_, ec))
      if (e.path().extension() == ".tmp") fs::remove(e.path(), ec);
    // Not started when it cannot fit: a write that fails part way cannot end the job cleanly.
    const std::string problem = file_system_problem(dir_, need);
    MDRL_CHECK(problem.empty(), core::IoError, cannot_write(problem, ""));
  });
  try {
    write_checkpoint_file(tmp, comm_, state);  // every rank has closed the file when this returns
  } catch (const CheckpointWriteError& e) {
    // Thrown on every rank alike (the disk filled up meanwhile, a quota, an I/O error): remove
    // the partial file (its space), say why and what is left, and fail on every rank alike.
    std::string message;
    if (comm_rank(comm_) == 0) {
      std::error_code ec;
      fs::remove(tmp, ec);
      std::string problem = file_system_problem(dir_, need);
      message = cannot_write(problem.empty() ? "could not be written to" : problem, e.what());
    }
    throw core::IoError(bcast_string(comm_, message));
  }
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
