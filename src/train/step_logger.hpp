// The per-step report of every training mode (DESIGN.md "Conventions: Logging"): one fixed line on
// rank 0 every train.log_every steps,
//   step 120/2460 | loss 1.2345 | lr 9.51e-06 | gnorm 0.873 | 5.1k tok/s | 212 ms/step | ETA 8m17s
// and on a terminal a progress bar redrawn in place between those lines. Timing fields are the
// caller's to put into metrics.jsonl too (step_seconds(), eta_seconds()).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mdrl::train {

class StepLogger {
 public:
  // `first_step`: steps already done (resume), so the ETA counts only this run's steps.
  StepLogger(int64_t total_steps, int64_t log_every, int64_t first_step, bool enabled);

  // Call when a step starts and after it ended; `tokens` = tokens processed by the step on all ranks.
  void start_step();
  void end_step(int64_t step, int64_t tokens);
  double step_seconds() const { return last_s_; }
  double tokens_per_second() const { return last_s_ > 0 ? static_cast<double>(last_tokens_) / last_s_ : 0; }
  double eta_seconds() const;

  // Prints the step's line (every log_every steps, and the last) or redraws the bar. `fields` are
  // (label, formatted value) pairs after "step N/T".
  void report(int64_t step, const std::vector<std::pair<std::string, std::string>>& fields);
  // Ends a bar in progress so an ordinary log line can follow.
  void break_line();

  static std::string format_duration(double seconds);  // "8m17s", "1h02m", "45s"
  static std::string format_rate(double per_second);   // "5.1k", "830", "1.2M"
  static std::string fixed(double v, int digits);      // "%.*f": 0.1234
  static std::string sci(double v);                    // "%.2e": 3.00e-06

 private:
  int64_t total_, every_, first_;
  bool enabled_, tty_;
  bool bar_open_ = false;
  std::chrono::steady_clock::time_point run_start_, step_start_;
  double last_s_ = 0, run_s_ = 0;
  int64_t last_tokens_ = 0, done_ = 0;
};

}  // namespace mdrl::train
