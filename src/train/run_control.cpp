#include "train/run_control.hpp"

#include <filesystem>
#include <string_view>

#include "config/options.hpp"
#include "core/check_mpi.hpp"
#include "core/error.hpp"
#include "core/fault_injection.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "dist/collectives_mpi.hpp"
#include "dist/mpi_env.hpp"

namespace mdrl::train {

namespace {
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int sig) { g_signal = sig; }  // async-signal-safe: one store

// Reasons, combined across ranks with a bitwise OR.
constexpr int kSignal = 1, kStopFile = 2, kCheckpointFile = 4, kWalltime = 8;

const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGINT: return "SIGINT";
  }
  return "a signal";
}
}  // namespace

void RunControlConfig::add_options(config::Options& opts) {
  opts.section("run", "run identity")
      .add("walltime", walltime,
           "time limit of the job: checkpoint and exit 0 before it; seconds, MM:SS, HH:MM:SS or D-HH:MM:SS; 0 = none")
      .add("walltime_margin", walltime_margin_s,
           "seconds kept free before the walltime, beyond the longest step so far (for the checkpoint write)");
  opts.add_validator([this] { validate(); });
}

void RunControlConfig::validate() const {
  parse_walltime(walltime);
  MDRL_CHECK(walltime_margin_s >= 0, core::ConfigError,
             "run.walltime_margin = " + std::to_string(walltime_margin_s) + " is negative");
}

double parse_walltime(const std::string& text) {
  const std::string t(core::trim(text));
  auto bad = [&] {
    return core::ConfigError("run.walltime = '" + text +
                             "' is not a time; use seconds (3600), MM:SS, HH:MM:SS, D-HH:MM:SS, or 0 for none");
  };
  auto number = [&](std::string_view s) {
    if (s.empty() || s.size() > 9) throw bad();
    for (char c : s)
      if (c < '0' || c > '9') throw bad();
    return std::stod(std::string(s));
  };
  double days = 0;
  std::string_view rest = t;
  const size_t dash = rest.find('-');
  if (dash != std::string_view::npos) {
    days = number(rest.substr(0, dash));
    rest = rest.substr(dash + 1);
  }
  const auto parts = core::split(rest, ':', false);
  if (parts.size() > 3 || (dash != std::string_view::npos && parts.size() != 3)) throw bad();
  // The leading field of a single number or MM:SS / HH:MM:SS may be large; every later field is a
  // clock field (minutes, seconds < 60; hours < 24 after days), as Slurm reads them.
  double seconds = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const double v = number(parts[i]);
    const bool hours_after_days = dash != std::string_view::npos && i == 0;
    if ((i > 0 && v >= 60) || (hours_after_days && v >= 24))
      throw core::ConfigError("run.walltime = '" + text + "': field '" + std::string(parts[i]) + "' is out of range (" +
                              (hours_after_days ? "hours 0-23" : "minutes and seconds 0-59") +
                              "); use seconds (3600), MM:SS, HH:MM:SS, D-HH:MM:SS, or 0 for none");
    seconds = seconds * 60 + v;
  }
  return days * 86400 + seconds;
}

RunControl::RunControl(const dist::MpiEnv& env, const RunControlConfig& cfg, std::string run_dir)
    : env_(env),
      walltime_s_(parse_walltime(cfg.walltime)),
      margin_s_(cfg.walltime_margin_s),
      run_dir_(std::move(run_dir)),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, &old_term_);
  sigaction(SIGUSR1, &sa, &old_usr1_);
  // A second Ctrl-C ends the process at once (default action), for when a step hangs.
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGINT, &sa, &old_int_);
}

RunControl::~RunControl() {
  sigaction(SIGTERM, &old_term_, nullptr);
  sigaction(SIGUSR1, &old_usr1_, nullptr);
  sigaction(SIGINT, &old_int_, nullptr);
}

int RunControl::pending_signal() { return g_signal; }

bool RunControl::consume_file(const char* name, const char* rename_to) const {
  const auto dir = std::filesystem::path(run_dir_);
  std::error_code ec;
  if (rename_to != nullptr) std::filesystem::rename(dir / name, dir / rename_to, ec);
  else std::filesystem::remove(dir / name, ec);
  if (ec) core::log::debug() << "consuming " << run_dir_ << "/" << name << ": " << ec.message();
  return !ec;
}

StepDecision RunControl::at_step_boundary() {
  core::fault::at(core::fault::Point::Step, env_.rank());  // MDRL_FAULT (dead-rank tests); nothing when unset
  const auto now = std::chrono::steady_clock::now();
  longest_step_s_ = std::max(longest_step_s_, std::chrono::duration<double>(now - last_).count());
  last_ = now;
  const int sig = g_signal;

  int mine = sig != 0 ? kSignal : 0;
  // Only rank 0 looks at the file system and the clock: one stat per step, one clock for the job.
  if (env_.rank() == 0) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(run_dir_) / "STOP", ec)) mine |= kStopFile;
    if (!checkpoint_file_stuck_ && std::filesystem::exists(std::filesystem::path(run_dir_) / "CHECKPOINT_NOW", ec))
      mine |= kCheckpointFile;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (walltime_s_ > 0 && elapsed + longest_step_s_ + margin_s_ >= walltime_s_) mine |= kWalltime;
  }
  int all = 0;
  MDRL_CHECK_MPI(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_BOR, env_.world()));

  StepDecision d;
  if (all == 0) return d;
  d.checkpoint = true;
  d.stop = (all & ~kCheckpointFile) != 0;
  // Name the reasons; for a signal, which ranks got which (gathered only when there is one).
  std::vector<std::string> parts;
  if (all & kSignal) {
    const auto sigs = dist::allgather_strings(env_.world(), sig != 0 ? signal_name(sig) : "");
    std::string who;
    for (size_t r = 0; r < sigs.size(); ++r)
      if (!sigs[r].empty()) who += (who.empty() ? "" : ", ") + sigs[r] + " on rank " + std::to_string(r);
    parts.push_back(who);
  }
  // Both request files are consumed when acted on, so "run the same command again" resumes and
  // goes on instead of stopping again at the next step.
  if (all & kStopFile) {
    parts.push_back("STOP file in " + run_dir_ + " (renamed STOP.done)");
    if (env_.rank() == 0 && !consume_file("STOP", "STOP.done"))
      core::log::warn() << "cannot remove " << run_dir_ << "/STOP: remove it before resuming, or the next run stops "
                        << "after its first step";
  }
  if (all & kWalltime) parts.emplace_back("run.walltime reached soon");
  if (all & kCheckpointFile) {
    parts.push_back("CHECKPOINT_NOW file in " + run_dir_);
    if (env_.rank() == 0 && !consume_file("CHECKPOINT_NOW")) {
      core::log::warn() << "cannot remove " << run_dir_ << "/CHECKPOINT_NOW; ignoring that file from now on";
      checkpoint_file_stuck_ = true;
    }
  }
  d.reason = core::join(parts, "; ");
  return d;
}

}  // namespace mdrl::train
