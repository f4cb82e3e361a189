// `mdrl eval` (spec algorithms.md §7, issue 15): accuracy tables over tasks x decoding strategies x
// gen lengths x steps x block lengths, with files `mdrl score` reads, the reference's generation
// files, provenance in every output and resume of an interrupted evaluation (eval/eval_runner).
#pragma once

#include <string>
#include <vector>

namespace mdrl::dist {
class MpiEnv;
}

namespace mdrl::apps {

int run_eval(const dist::MpiEnv& env, const std::vector<std::string>& args);

}  // namespace mdrl::apps
