// MDRL_FAULT: one rank fails on purpose at a chosen step boundary or decode batch (see the header).
#include "core/fault_injection.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "core/error.hpp"
#include "core/text.hpp"

namespace mdrl::core::fault {
namespace {

long to_number(const std::string& text, const std::string& key, const std::string& whole) {
  const auto bad = [&] {
    return ConfigError("MDRL_FAULT='" + whole + "': '" + key + ":" + text +
                       "' needs a whole number >= 0 (form: rank:<r>,step:<n>|batch:<n>,kind:throw|abort|kill)");
  };
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) throw bad();
  return std::stol(text);
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Throw: return "throw";
    case Kind::Abort: return "abort";
    case Kind::Kill: return "kill";
  }
  return "?";
}

}  // namespace

Plan parse(const std::string& text) {
  Plan p;
  if (trim(text).empty()) return p;
  const std::string form = " (form: rank:<r>,step:<n>|batch:<n>,kind:throw|abort|kill; unset it for no fault)";
  bool have_rank = false, have_point = false, have_kind = false;
  for (const auto& item : split(text, ',')) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos) throw ConfigError("MDRL_FAULT='" + text + "': '" + item + "' is not key:value" + form);
    const std::string key(trim(item.substr(0, colon))), value(trim(item.substr(colon + 1)));
    if (key == "rank") {
      p.rank = static_cast<int>(to_number(value, key, text));
      have_rank = true;
    } else if (key == "step" || key == "batch") {
      if (have_point) throw ConfigError("MDRL_FAULT='" + text + "': give one of step or batch" + form);
      p.point = key == "step" ? Point::Step : Point::Batch;
      p.count = to_number(value, key, text);
      if (p.count < 1) throw ConfigError("MDRL_FAULT='" + text + "': " + key + " counts from 1" + form);
      have_point = true;
    } else if (key == "kind") {
      if (value == "throw") p.kind = Kind::Throw;
      else if (value == "abort") p.kind = Kind::Abort;
      else if (value == "kill") p.kind = Kind::Kill;
      else throw ConfigError("MDRL_FAULT='" + text + "': kind '" + value + "' is not throw, abort or kill" + form);
      have_kind = true;
    } else {
      throw ConfigError("MDRL_FAULT='" + text + "': unknown key '" + key + "'" + form);
    }
  }
  if (!have_rank || !have_point || !have_kind)
    throw ConfigError("MDRL_FAULT='" + text + "' lacks " + (!have_rank ? "rank" : !have_point ? "step or batch" : "kind") +
                      form);
  return p;
}

void at(Point point, int rank) {
  // Read once per process; only the main thread passes here (MPI_THREAD_FUNNELED).
  static const Plan plan = [] {
    const char* v = std::getenv("MDRL_FAULT");
    return parse(v == nullptr ? "" : v);
  }();
  static long passes[2] = {0, 0};
  const long n = ++passes[point == Point::Step ? 0 : 1];
  if (plan.rank != rank || plan.point != point || plan.count != n) return;

  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const char* where = point == Point::Step ? "step" : "batch";
  std::fprintf(stderr, "[r%d] MDRL_FAULT: %s on rank %d at %s %ld (unix time %.3f)\n", rank, kind_name(plan.kind), rank,
               where, n, now);
  std::fflush(stderr);
  switch (plan.kind) {
    case Kind::Throw:
      throw std::runtime_error("fault injected by MDRL_FAULT on rank " + std::to_string(rank) + " at " + where + " " +
                               std::to_string(n));
    case Kind::Abort: std::abort();
    case Kind::Kill: std::raise(SIGKILL); break;
  }
}

}  // namespace mdrl::core::fault
