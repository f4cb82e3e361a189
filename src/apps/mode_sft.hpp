// `mdrl sft` (issue 9): masked-diffusion supervised fine-tuning (spec algorithms.md §3).
#pragma once

#include <string>
#include <vector>

namespace mdrl::config {
class Options;
}
namespace mdrl::dist {
class MpiEnv;
}
namespace mdrl::sft {
struct SftSettings;
}

namespace mdrl::apps {

// Registers every section the sft mode reads.
void add_sft_options(config::Options& opts, sft::SftSettings& s);
int run_sft(const dist::MpiEnv& env, const std::vector<std::string>& args);

}  // namespace mdrl::apps
