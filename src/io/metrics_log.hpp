// <run.dir>/metrics.jsonl (DESIGN.md "Conventions: Logging"): one JSON object per training step,
// written by rank 0 and flushed at the end of every line, so tests, plotting scripts and `tail -f`
// see each step as soon as it is done. On resume the rows of steps after the checkpoint (logged by
// the interrupted run but about to be redone) are dropped, so the file reads as one run.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace mdrl::io {

class MetricsLog {
 public:
  // `enabled` is false on every rank but 0 (nothing is opened there). resume_step < 0 starts a new
  // file (truncating an old one); otherwise existing rows with "step" > resume_step are dropped and
  // new rows are appended. Throws core::IoError naming the file.
  MetricsLog(std::string path, bool enabled, int64_t resume_step = -1);

  // Writes {"step": step, ...fields} as one line and flushes it. `fields` must be an object; NaN
  // and infinities become null (JSON has no such numbers).
  void write(int64_t step, const nlohmann::ordered_json& fields);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool enabled_;
  std::ofstream out_;
};

}  // namespace mdrl::io
