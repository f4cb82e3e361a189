// MetricsLog: metrics.jsonl, one flushed JSON line per step (metrics_log.hpp).
#include "io/metrics_log.hpp"

#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "io/file_util.hpp"

namespace mdrl::io {

MetricsLog::MetricsLog(std::string path, bool enabled, int64_t resume_step) : path_(std::move(path)), enabled_(enabled) {
  if (!enabled_) return;
  const auto parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (resume_step >= 0 && std::filesystem::exists(path_)) {
    // Keep the rows up to the checkpoint's step; a torn last line (crash mid-write) goes too.
    std::ifstream in(path_);
    std::string line, kept;
    int64_t dropped = 0;
    while (std::getline(in, line)) {
      const auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!row.is_object() || !row.contains("step") || !row["step"].is_number_integer() ||
          row["step"].get<int64_t>() > resume_step) {
        ++dropped;
        continue;
      }
      kept += line + "\n";
    }
    if (dropped > 0) {
      write_text_atomically(path_, kept);
      core::log::info() << path_ << ": dropped " << dropped << " row(s) after step " << resume_step
                        << " written by the interrupted run";
    }
    out_.open(path_, std::ios::app);
  } else {
    out_.open(path_, std::ios::trunc);
  }
  MDRL_CHECK(out_.good(), core::IoError, "cannot open " + path_ + " for writing (check run.dir is writable)");
}

void MetricsLog::write(int64_t step, const nlohmann::ordered_json& fields) {
  if (!enabled_) return;
  MDRL_CHECK(fields.is_object() || fields.is_null(), core::InternalError, "metrics row must be a JSON object");
  nlohmann::ordered_json row;
  row["step"] = step;
  if (fields.is_object())
    for (const auto& [k, v] : fields.items())
      if (k != "step") row[k] = v;
  // dump() writes NaN and infinities as null; replace invalid UTF-8 rather than throw mid-run.
  out_ << row.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  out_.flush();
  MDRL_CHECK(out_.good(), core::IoError, "writing " + path_ + " failed (disk full?)");
}

}  // namespace mdrl::io
