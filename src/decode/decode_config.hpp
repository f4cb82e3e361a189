// [decode] options (spec algorithms.md §1, §8.2): schedule, steps, remasking, EOSER, sampling,
// guidance and the switches that reproduce reference behaviours the defaults fix (Q3, Q5, Q13,
// Q14, Q15). validate() builds the decode plan, so an invalid combination of gen_length, steps,
// block_length and block_num fails when the options are read, not inside the decoding loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mdrl::config {
class Options;
}

namespace mdrl::decode {

// Which positions a step may unmask and how many (spec §1.3, §1.5). Diffusion is the semi-AR
// schedule with a single block of gen_length.
enum class Schedule { SemiAr, Diffusion, Ass };
enum class Remasking { LowConfidence, Random };
// EOSER gamma schedule: linear (§1.4) or power-of-two (§1.6); auto = power for ASS, else linear.
enum class GammaSchedule { Auto, Linear, Power };
// Step index fed to the linear gamma: the global step (fix of Q3) or, as the reference's eval
// `eoser_generate`, the step index within the current block with the configured step total.
enum class GammaIndex { Global, WithinBlock };
enum class Precision { F32, F64 };
// How noise_precision = f64 samples x0 ~ softmax(l / T): one f64 uniform per position against the
// f64 cumulative softmax (inverse CDF), or the reference's V f64 Gumbel draws per position (the same
// distribution, other draws; V times the random numbers and two logarithms per logit).
enum class F64Sampler { InverseCdf, Gumbel };

struct DecodeConfig {
  int64_t gen_length = 256;   // L, completion tokens
  int64_t steps = 128;        // forward passes (semi-AR: total before the per-block split)
  Schedule schedule = Schedule::SemiAr;
  int64_t block_length = 32;  // semi-AR window; must divide gen_length
  int64_t block_num = 1;      // ASS blocks (the reference's eval passes --block_length here)
  Remasking remasking = Remasking::LowConfidence;
  double temperature = 0.0;   // Gumbel-max temperature; 0 = greedy
  double cfg_scale = 0.0;     // classifier-free guidance s; 0 = off
  bool eoser = false;         // EOS early rejection
  double gamma_min = 0.01;    // intended eval value (Q1); the CJ-GRPO train.yaml also uses 0.01
  double gamma_max = 1.0;
  GammaSchedule gamma_schedule = GammaSchedule::Auto;
  GammaIndex gamma_index = GammaIndex::Global;
  std::vector<std::string> eos_ids;  // token ids treated as EOS by EOSER; empty = the model's EOS id
  bool sample_mask_token = false;    // true = the reference: the mask id may be sampled (Q13)
  bool attention_mask = true;        // false = the reference: left pads are attended (Q15)
  Precision noise_precision = Precision::F32;       // Gumbel noise (Q14)
  F64Sampler f64_sampler = F64Sampler::InverseCdf;  // how f64 noise is drawn
  Precision confidence_precision = Precision::F32;  // softmax confidence (Q14)
  bool eos_stats = false;            // record how many EOS tokens each step unmasks
  // Not an option: set by callers that need Trace::logp (CJ-GRPO's old log-probs from the rollout).
  bool record_logp = false;

  void add_options(config::Options& opts);
  // Range checks and the decode plan; throws core::ConfigError naming the option and valid values.
  void validate() const;
  // eos_ids parsed, or {model_eos} when empty.
  std::vector<int64_t> eos_set(int64_t model_eos) const;
  GammaSchedule resolved_gamma_schedule() const;
};

const char* schedule_name(Schedule s);

}  // namespace mdrl::decode
