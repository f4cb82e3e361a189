// Run control for batch systems (DESIGN.md "Nothing is lost on SIGTERM"): SIGTERM, SIGUSR1 (Slurm's
// warning with --signal=USR1@T) and SIGINT set a flag in an async-signal-safe handler; a
// `run.walltime` limit, a STOP file and a CHECKPOINT_NOW file in the run directory trigger the same
// without a signal. At each step boundary the reasons are OR-ed across ranks, so every rank takes
// the same decision at the same step: checkpoint, and for all but CHECKPOINT_NOW, stop and exit 0.
// Both files are consumed when acted on: CHECKPOINT_NOW is removed, STOP renamed to STOP.done (a
// trace for the user and for jobs/slurm scripts), so the rerun that resumes goes on.
#pragma once

#include <chrono>
#include <csignal>
#include <string>

namespace mdrl::config {
class Options;
}
namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::train {

struct RunControlConfig {
  std::string walltime = "0";  // "0" = none; seconds, "MM:SS", "HH:MM:SS" or "D-HH:MM:SS" (Slurm's forms)
  double walltime_margin_s = 120;  // stop when less than this plus the longest step so far is left

  void add_options(config::Options& opts);
  void validate() const;
};

// Seconds in a walltime string; throws core::ConfigError naming run.walltime for bad text.
double parse_walltime(const std::string& text);

struct StepDecision {
  bool checkpoint = false;  // write a checkpoint now
  bool stop = false;        // then leave the loop and exit 0
  std::string reason;       // for the log, e.g. "SIGUSR1 on rank 1"
};

class RunControl {
 public:
  // Installs the signal handlers (restored on destruction). The walltime clock starts here.
  RunControl(const dist::MpiEnv& env, const RunControlConfig& cfg, std::string run_dir);
  ~RunControl();
  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  // Collective over the world: call once per step on every rank, after the step's work.
  StepDecision at_step_boundary();

  // The signal received by this process so far (0 if none).
  static int pending_signal();

 private:
  // Removes <run_dir>/<name>, or renames it to `rename_to` (rank 0); false when it stays.
  bool consume_file(const char* name, const char* rename_to = nullptr) const;

  const dist::MpiEnv& env_;
  double walltime_s_;
  double margin_s_;
  std::string run_dir_;
  std::chrono::steady_clock::time_point start_, last_;
  double longest_step_s_ = 0;
  bool checkpoint_file_stuck_ = false;
  struct sigaction old_term_{}, old_usr1_{}, old_int_{};
};

}  // namespace mdrl::train
