// StepLogger (step_logger.hpp).
#include "train/step_logger.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "core/log.hpp"

namespace mdrl::train {

namespace {
// A terminal a person watches: one process (world size 1) whose stdout is a terminal, not started
// by a launcher. Under mpirun (even -np 1) a rank's stdout is a pseudo-terminal even when the job's
// output goes to a file; mpirun and srun set OMPI_COMM_WORLD_SIZE / PMI_SIZE / SLURM_STEP_ID. Not
// PMIX_RANK: Open MPI's MPI_Init sets it in a process started without a launcher too.
bool interactive_terminal() {
  if (core::log::world_size() != 1 || isatty(STDOUT_FILENO) != 1) return false;
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_ID"})
    if (std::getenv(v) != nullptr) return false;
  return true;
}
}  // namespace

StepLogger::StepLogger(int64_t total_steps, int64_t log_every, int64_t first_step, bool enabled)
    : total_(total_steps), every_(log_every), first_(first_step), enabled_(enabled),
      tty_(enabled && interactive_terminal()), run_start_(std::chrono::steady_clock::now()) {}

void StepLogger::start_step() { step_start_ = std::chrono::steady_clock::now(); }

void StepLogger::end_step(int64_t step, int64_t tokens) {
  const auto now = std::chrono::steady_clock::now();
  last_s_ = std::chrono::duration<double>(now - step_start_).count();
  run_s_ = std::chrono::duration<double>(now - run_start_).count();
  last_tokens_ = tokens;
  done_ = step - first_;
}

double StepLogger::eta_seconds() const {
  if (done_ <= 0) return 0;
  return run_s_ / static_cast<double>(done_) * static_cast<double>(total_ - first_ - done_);
}

std::string StepLogger::format_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  return buf;
}

std::string StepLogger::format_rate(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  else if (v >= 1e4) std::snprintf(buf, sizeof buf, "%.0fk", v / 1e3);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string StepLogger::fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string StepLogger::sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}

void StepLogger::report(int64_t step, const std::vector<std::pair<std::string, std::string>>& fields) {
  if (!enabled_) return;
  std::string line = "step " + std::to_string(step) + "/" + std::to_string(total_);
  for (const auto& [label, value] : fields) line += " | " + label + " " + value;
  line += " | " + format_rate(tokens_per_second()) + " tok/s | " + std::to_string(std::lround(last_s_ * 1000)) +
          " ms/step | ETA " + format_duration(eta_seconds());
  const bool keep = step % every_ == 0 || step == total_;
  if (tty_) {
    // A bar redrawn in place; the kept lines stay in the scrollback as ordinary log lines.
    constexpr int kWidth = 24;
    const int filled = total_ > 0 ? static_cast<int>(kWidth * step / total_) : 0;
    std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                      std::string(static_cast<size_t>(kWidth - filled), '.') + "] ";
    std::cout << "\r\x1b[K" << (keep ? "" : bar) << line << (keep ? "\n" : "") << std::flush;
    bar_open_ = !keep;
    return;
  }
  if (keep) core::log::info() << line;
}

void StepLogger::break_line() {
  if (bar_open_) std::cout << "\r\x1b[K" << std::flush;
  bar_open_ = false;
}

}  // namespace mdrl::train
