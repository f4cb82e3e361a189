// [grpo] options and the batch arithmetic of spec algorithms.md §2.0 step 3 (grpo_config.hpp).
#include "rl/grpo_config.hpp"

#include <string>

#include "config/format.hpp"
#include "config/options.hpp"
#include "core/error.hpp"

namespace mdrl::rl {

namespace {

std::string num(int64_t v) { return std::to_string(v); }
std::string num(double v) { return config::format_value(v); }

std::string join(const std::vector<int64_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out;
}

}  // namespace

const char* scaling_name(AdvantageScaling s) {
  switch (s) {
    case AdvantageScaling::None: return "none";
    case AdvantageScaling::Group: return "group";
  }
  return "?";
}

const char* loss_norm_name(LossNorm n) {
  switch (n) {
    case LossNorm::Tokens: return "tokens";
    case LossNorm::Sequences: return "sequences";
  }
  return "?";
}

void GrpoConfig::add_options(config::Options& opts) {
  opts.section("grpo", "GRPO-family reinforcement learning (spec §2)")
      .add("num_generations", num_generations,
           "G: completions sampled per prompt, one group; must divide train.batch_size so a group stays in one "
           "micro-batch on one rank")
      .add("num_iterations", num_iterations,
           "mu: optimizer steps on each rollout batch (old log-probs stored once per rollout); the reference "
           "launchers use 8 for countdown/sudoku and 12 for gsm8k/math")
      .add("beta", beta,
           "KL coefficient of the k3 estimator exp(ref - lp) - (ref - lp) - 1 against the reference policy (the "
           "same weights with the LoRA adapter disabled); 0 = no reference forwards and no KL term")
      .add("epsilon", epsilon, "PPO clip range: the ratio is clamped to [1 - epsilon, 1 + epsilon]")
      .add("max_prompt_length", max_prompt_length,
           "prompts keep their last N tokens (left truncation, as the reference; may cut the BOS/system prompt); "
           "0 = no truncation")
      .add_enum("scale_rewards", scale_rewards, {{"none", AdvantageScaling::None}, {"group", AdvantageScaling::Group}},
                "advantages: reward - group mean (none: the paper and the reference) or TRL's (reward - group mean) / "
                "(unbiased group std + 1e-4) (group)")
      .add_enum("loss_norm", loss_norm, {{"tokens", LossNorm::Tokens}, {"sequences", LossNorm::Sequences}},
                "normalisation of the token loss: over all valid completion tokens of the micro-batch (tokens: the "
                "reference) or per-sequence token mean, then the mean over sequences (sequences: the GRPO paper); "
                "CJ-GRPO applies it within each decoding step")
      .add("generation_batch_size", generation_batch_size,
           "rollout rows per decode call (memory only); 0 = the whole micro-batch (the reference's 6 = its "
           "per-device batch)")
      .add("p_mask_prompt", p_mask_prompt,
           "diffu-GRPO: probability that a prompt token is masked in the log-prob forwards (the reference's "
           "train.yaml 0.15; config default 0.3); unused by one-step and CJ-GRPO")
      .add("random_masking", random_masking,
           "diffu-GRPO: draw one random prompt-mask seed per inner iteration; false = the same seed (42) for all")
      .add_enum("iteration_index", iteration_index,
                {{"sequential", IterationIndex::Sequential}, {"reference", IterationIndex::Reference}},
                "diffu-GRPO: which of the mu prompt masks an inner iteration uses: the j-th reuse uses mask j "
                "(sequential), or the reference's (j * grad_accum + k + 1) mod mu for micro-batch k, which visits "
                "only mu / gcd(grad_accum, mu) masks (reference, quirk Q8)")
      .add("rollout_dropout", rollout_dropout,
           "run rollouts and the old/reference log-prob forwards with LoRA dropout active, as the reference's "
           "train-mode rollouts (quirk Q17: the ratio is not 1 on the first iteration); false = dropout off there")
      .add_enum("cj_loss_norm", cj_loss_norm, {{"steps", CjLossNorm::Steps}, {"tokens", CjLossNorm::Tokens}},
                "CJ-GRPO: the loss is the mean over the S decoding steps of each step's loss (steps: the paper and "
                "the reference, each step weighs 1/S), or each step weighted by its share of the unmasked tokens "
                "(tokens; quirk Q12). A step that unmasks nothing contributes 0, never NaN")
      .add_enum("cj_old_logp", cj_old_logp, {{"rollout", CjOldLogp::Rollout}, {"recompute", CjOldLogp::Recompute}},
                "CJ-GRPO old log-probs (num_iterations > 1): from the rollout's own forwards (rollout: no extra "
                "forwards; only with grpo.rollout_dropout = false, else recomputed) or S no-grad forwards on the "
                "trajectory's states after the rollout (recompute: the reference)");
  opts.add_validator([this] { validate(); });
}

void GrpoConfig::validate() const {
  MDRL_CHECK(num_generations >= 2, core::ConfigError,
             "grpo.num_generations = " + num(num_generations) +
                 "; GRPO needs at least 2 completions per prompt (group advantages), use 2 or more");
  MDRL_CHECK(num_iterations >= 1, core::ConfigError,
             "grpo.num_iterations = " + num(num_iterations) + "; use 1 or more");
  MDRL_CHECK(beta >= 0, core::ConfigError, "grpo.beta = " + num(beta) + "; use 0 (no KL) or a positive value");
  MDRL_CHECK(epsilon > 0 && epsilon < 1, core::ConfigError,
             "grpo.epsilon = " + num(epsilon) + "; use a value in (0, 1) (the reference 0.5)");
  MDRL_CHECK(max_prompt_length >= 0, core::ConfigError,
             "grpo.max_prompt_length = " + num(max_prompt_length) + "; use 0 (no truncation) or a positive length");
  MDRL_CHECK(generation_batch_size >= 0, core::ConfigError,
             "grpo.generation_batch_size = " + num(generation_batch_size) +
                 "; use 0 (the whole micro-batch) or a positive row count");
  MDRL_CHECK(p_mask_prompt >= 0 && p_mask_prompt <= 1, core::ConfigError,
             "grpo.p_mask_prompt = " + num(p_mask_prompt) + "; use a probability in [0, 1]");
}

std::vector<int64_t> valid_num_generations(int64_t per_device_batch) {
  std::vector<int64_t> out;
  for (int64_t g = 2; g <= per_device_batch; ++g)
    if (per_device_batch % g == 0) out.push_back(g);
  return out;
}

void validate_batch(const GrpoConfig& cfg, int64_t per_device_batch, int64_t world_size, int64_t grad_accum) {
  MDRL_CHECK(per_device_batch >= 1 && world_size >= 1 && grad_accum >= 1, core::ConfigError,
             "train.batch_size = " + num(per_device_batch) + ", train.grad_accum = " + num(grad_accum) + " with " +
                 num(world_size) + " ranks; all must be positive");
  const int64_t G = cfg.num_generations;
  const int64_t completions = per_device_batch * world_size * grad_accum;
  const auto valid = valid_num_generations(per_device_batch);
  const std::string fix =
      valid.empty() ? "train.batch_size = " + num(per_device_batch) +
                          " has no divisor >= 2; set train.batch_size to a multiple of grpo.num_generations (e.g. " +
                          num(G) + ")"
                    : "valid grpo.num_generations for train.batch_size = " + num(per_device_batch) + ": " + join(valid) +
                          "; or set train.batch_size to a multiple of " + num(G);
  MDRL_CHECK(completions % G == 0, core::ConfigError,
             "grpo.num_generations = " + num(G) + " does not divide the " + num(completions) +
                 " completions of an optimizer step (train.batch_size " + num(per_device_batch) + " x " +
                 num(world_size) + " ranks x train.grad_accum " + num(grad_accum) +
                 "), so the unique prompts per step are not a whole number; " + fix);
  MDRL_CHECK(per_device_batch % G == 0, core::ConfigError,
             "grpo.num_generations = " + num(G) + " does not divide train.batch_size = " + num(per_device_batch) +
                 ": a group of G completions must lie in one micro-batch on one rank; " + fix);
}

int64_t unique_prompts_per_step(const GrpoConfig& cfg, int64_t per_device_batch, int64_t world_size,
                                int64_t grad_accum) {
  return per_device_batch * world_size * grad_accum / cfg.num_generations;
}

int64_t mask_iteration_index(const GrpoConfig& cfg, int64_t reuse, int64_t micro, int64_t grad_accum) {
  const int64_t mu = cfg.num_iterations;
  MDRL_ASSERT(mu >= 1 && reuse >= 0 && micro >= 0 && micro < grad_accum);
  switch (cfg.iteration_index) {
    case IterationIndex::Sequential: return reuse % mu;
    // The reference reads `_step % mu` after incrementing `_step`, which counts micro-batches:
    // micro-batch k of the j-th reuse of a rollout made at optimizer step s0 (a multiple of mu)
    // sees _step = (s0 + j) * GA + k + 1, and s0 * GA = 0 mod mu.
    case IterationIndex::Reference: return (reuse * grad_accum + micro + 1) % mu;
  }
  return 0;
}

}  // namespace mdrl::rl
