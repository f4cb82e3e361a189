// `mdrl score` (spec algorithms.md §7.2): accuracy tables of generation files (ours and the
// reference tools' JSON), or, with score.rewards, the reward breakdown of each completion of a
// JSONL file (spec §5), for debugging reward functions.
#pragma once

#include <string>
#include <vector>

namespace mdrl::config {
class Options;
}
namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::apps {

struct ScoreConfig {
  std::string tokenizer = "builtin:byte_level";  // counts effective tokens
  bool rewards = false;                          // reward breakdown instead of accuracy tables

  void add_options(config::Options& opts);
};

int run_score(const dist::MpiEnv& env, const std::vector<std::string>& args);

}  // namespace mdrl::apps
