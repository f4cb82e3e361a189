// Mode dispatch of the `mdrl` executable: `mdrl <mode> [-c file.ini ...] [--section.key=value ...]`.
#pragma once

#include <string>
#include <vector>

namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::apps {

// Thrown when every rank has agreed to stop with `code` and the reason was already reported.
struct CollectiveExit {
  int code;
};

// Runs the mode named by args[0]; returns the process exit code.
int dispatch(const dist::MpiEnv& env, const std::vector<std::string>& args);

}  // namespace mdrl::apps
