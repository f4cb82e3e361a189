// The mode name -> GRPO algorithm (DESIGN.md "rl/": the three RL modes share options and one app
// file; the mode picks the estimator of spec algorithms.md §2.1-§2.3).
#include "rl/grpo_algorithm.hpp"

#include "core/error.hpp"
#include "rl/cj_grpo.hpp"
#include "rl/diffu_grpo.hpp"
#include "rl/one_step_grpo.hpp"

namespace mdrl::rl {

std::unique_ptr<GrpoAlgorithm> make_algorithm(const std::string& mode, const GrpoConfig& cfg, int64_t grad_accum) {
  if (mode == "diffu-grpo") return std::make_unique<DiffuGrpo>(cfg, grad_accum);
  if (mode == "one-step-grpo") return std::make_unique<OneStepGrpo>(cfg);
  if (mode == "cj-grpo") return std::make_unique<CjGrpo>(cfg);
  throw core::ConfigError("unknown GRPO mode '" + mode + "'; valid modes: diffu-grpo, one-step-grpo, cj-grpo");
}

}  // namespace mdrl::rl
