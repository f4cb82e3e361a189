// What every mode does first: register its option sections, parse the command line and the INI
// files on every rank, agree across ranks that it worked (so a bad option is reported once and
// every rank exits cleanly), apply logging, and print the resolved configuration on rank 0.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "config/options.hpp"
#include "config/run_config.hpp"

namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::apps {

// One row of the mode table: what --help lists and what dispatch runs.
using ModeRun = int (*)(const dist::MpiEnv& env, const std::string& mode, const std::vector<std::string>& args);
struct ModeInfo {
  const char* name;
  const char* summary;
  const char* issue;  // where the mode is being built, when it is not yet in this build (run is null then)
  ModeRun run = nullptr;
};

// The modes mdrl knows, in the order --help lists them.
const std::vector<ModeInfo>& modes();

// Section names used by any mode (for config::Options::set_foreign_sections).
std::set<std::string> all_sections();

// Parses on every rank; on failure anywhere the lowest failing rank prints its error and all ranks
// throw CollectiveExit with the same code. --help and --print-config print on rank 0 and end with
// CollectiveExit{0}. Otherwise applies `log` and logs the resolved configuration table (at info
// level, or debug when `table_at_debug`), and returns the command line.
config::CommandLine setup_mode(const dist::MpiEnv& env, config::Options& opts, const std::vector<std::string>& args,
                               const std::string& usage, const config::LogConfig& log, bool table_at_debug = false);

}  // namespace mdrl::apps
