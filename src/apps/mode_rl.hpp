// `mdrl diffu-grpo` and `mdrl one-step-grpo` (and `mdrl cj-grpo` with RL part 2): one app for the
// GRPO family; the mode name picks the algorithm (DESIGN.md "rl/").
#pragma once

#include <string>
#include <vector>

#include "rl/grpo_loop.hpp"

namespace mdrl::dist {
class MpiEnv;
}
namespace mdrl::config {
class Options;
}

namespace mdrl::apps {

// Every option section of an RL mode (also used to list all modes' options).
void add_rl_mode_options(config::Options& opts, rl::RlSettings& s);
int run_rl(const dist::MpiEnv& env, const std::string& mode, const std::vector<std::string>& args);

}  // namespace mdrl::apps
