// [grpo] options shared by the three GRPO-family modes (spec algorithms.md §2.0-§2.2, §4.1, §8.2):
// group size G, inner iterations mu, KL coefficient beta, clip epsilon, prompt truncation, the
// advantage scaling, the loss normalisation, diffu-GRPO's prompt masking, and the switches that
// reproduce reference behaviours the defaults fix (Q8 iteration index, Q17 train-mode rollouts).
// The completion length L is decode.gen_length ([decode]); there is no separate option.
//
// Defaults are the effective settings the reference launches with (spec §4.1: G 6, beta 0.04,
// epsilon 0.5, prompts <= 200 tokens, p_mask_prompt 0.15, random mask seeds) and mu = 8 (the
// countdown/sudoku launchers; gsm8k/math use 12). The paper's advantages are not std-scaled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mdrl::config {
class Options;
}

namespace mdrl::rl {

// Advantage scaling (spec §2.0 step 9): none = r - group mean (the reference); group = TRL's
// (r - group mean) / (unbiased group std + 1e-4).
enum class AdvantageScaling { None, Group };

// Loss normalisation of the token objective (spec §2.1/§2.2): tokens = sum over the micro-batch's
// valid tokens / their count (the reference); sequences = per-sequence token mean, then the mean
// over sequences (the GRPO paper's 1/G sum_i 1/|o_i| sum_t).
enum class LossNorm { Tokens, Sequences };

// Which of the mu precomputed diffu-GRPO prompt masks an inner iteration uses (spec §2.1, Q8):
// sequential = reuse j uses mask j; reference = the reference's (j * GA + k + 1) mod mu for
// micro-batch k, which visits only mu / gcd(GA, mu) of the masks.
enum class IterationIndex { Sequential, Reference };

// CJ-GRPO (spec §2.3, Q12): how the decoding steps' losses combine: steps = (1/S) sum_i of each
// step's loss (the paper and the reference: every step weighs the same, however many tokens it
// unmasked); tokens = each step weighted by its share of the trajectory's unmasked tokens.
enum class CjLossNorm { Steps, Tokens };
// CJ-GRPO old log-probs (mu > 1): rollout = taken from the rollout's own forwards (same network,
// same states; no extra forwards; needs dropout-free rollouts, else recomputed); recompute = S
// no-grad forwards after the rollout, as the reference.
enum class CjOldLogp { Rollout, Recompute };

const char* scaling_name(AdvantageScaling s);
const char* loss_norm_name(LossNorm n);

struct GrpoConfig {
  int64_t num_generations = 6;   // G completions per prompt (one group)
  int64_t num_iterations = 8;    // mu optimizer steps per rollout batch
  double beta = 0.04;            // KL coefficient; 0 = no reference log-probs, no KL term
  double epsilon = 0.5;          // PPO clip: ratio clamped to [1 - eps, 1 + eps]
  int64_t max_prompt_length = 200;  // prompts keep their last N tokens; 0 = no truncation
  AdvantageScaling scale_rewards = AdvantageScaling::None;
  LossNorm loss_norm = LossNorm::Tokens;
  int64_t generation_batch_size = 0;  // rollout rows per decode call; 0 = the whole micro-batch
  // diffu-GRPO only (spec §2.1; unused by one-step and CJ-GRPO, Q21):
  double p_mask_prompt = 0.15;   // Bernoulli masking probability of prompt tokens
  bool random_masking = true;    // a random mask seed per iteration; false = seed 42 for all
  IterationIndex iteration_index = IterationIndex::Sequential;
  // Q17: rollouts and old log-probs with LoRA dropout active (the reference's train mode).
  bool rollout_dropout = false;
  // CJ-GRPO only (spec §2.3):
  CjLossNorm cj_loss_norm = CjLossNorm::Steps;
  CjOldLogp cj_old_logp = CjOldLogp::Rollout;

  void add_options(config::Options& opts);
  // Range checks of each option; throws core::ConfigError naming the option and its valid values.
  void validate() const;
};

// The batch arithmetic of spec §2.0 step 3, with train.batch_size = per_device_batch, W ranks and
// train.grad_accum: the W * per_device * GA completions of an optimizer step must be whole groups
// of G (U = W * per_device * GA / G unique prompts), and G must divide the per-device micro-batch
// so a group never spans micro-batches or ranks (advantages need no communication). Throws
// core::ConfigError naming grpo.num_generations / train.batch_size and listing the values that work.
void validate_batch(const GrpoConfig& cfg, int64_t per_device_batch, int64_t world_size, int64_t grad_accum);

// U: unique prompts per optimizer step (call validate_batch first).
int64_t unique_prompts_per_step(const GrpoConfig& cfg, int64_t per_device_batch, int64_t world_size,
                                int64_t grad_accum);

// The valid values of grpo.num_generations for a per-device micro-batch: its divisors >= 2.
std::vector<int64_t> valid_num_generations(int64_t per_device_batch);

// Index in [0, mu) of the diffu-GRPO prompt mask used by micro-batch `micro` (0..GA-1) of the
// optimizer step that reuses a rollout for the `reuse`-th time (0..mu-1), per cfg.iteration_index.
int64_t mask_iteration_index(const GrpoConfig& cfg, int64_t reuse, int64_t micro, int64_t grad_accum);

}  // namespace mdrl::rl
